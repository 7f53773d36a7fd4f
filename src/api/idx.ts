// IDX files, the format of MNIST and Fashion-MNIST: a 4-byte magic (0, 0, dtype, number of
// dimensions), one big-endian uint32 per dimension, then the values in row-major order.
// Files ending in .gz (or starting with the gzip magic) are gunzipped transparently.
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { constants as zlibConstants, gunzipSync, gzipSync } from 'node:zlib';

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
  /** When only the first items were read (readIdx's `firstItems`): how many the file holds. */
  fileItems?: number;
}

const UNSIGNED_BYTE = 0x08;
const DTYPE_NAMES: Record<number, string> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'int16',
  0x0c: 'int32',
  0x0d: 'float32',
  0x0e: 'float64',
};

function hex(n: number): string {
  return `0x${n.toString(16).padStart(2, '0')}`;
}

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * The first `items` items' worth of a gzipped IDX file, inflated only as far as they go (lesson
 * 1 reads 2,000 of the shipped 5,000 images: 6 of the 16 ms of inflating them all, at every
 * run's start). The input is cut at a guess from the trailer's size and the guess doubled until
 * the output holds them; what lies beyond is not read, so damage there goes unnoticed, as it
 * should: those items are not used.
 */
function gunzipPrefix(gz: Uint8Array, items: number): Uint8Array {
  const partial = (inputBytes: number) => gunzipSync(gz.subarray(0, Math.min(gz.length, inputBytes)), { finishFlush: zlibConstants.Z_SYNC_FLUSH });
  const head = partial(4096);
  if (head.length < 4 || head[0] !== 0 || head[1] !== 0 || head.length < 4 + 4 * head[3]) return gunzipSync(gz);
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const dims = Array.from({ length: head[3] }, (_, i) => view.getUint32(4 + 4 * i, false));
  const need = 4 + 4 * dims.length + Math.min(items, dims[0]) * dims.slice(1).reduce((a, b) => a * b, 1);
  const total = new DataView(gz.buffer, gz.byteOffset, gz.byteLength).getUint32(gz.length - 4, true);
  for (let guess = Math.ceil((gz.length * need) / Math.max(1, total) * 1.05) + 4096; ; guess *= 2) {
    const out = partial(guess);
    if (out.length >= need || guess >= gz.length) return out.subarray(0, Math.min(out.length, need));
  }
}

/**
 * Reads an IDX file of unsigned bytes (gzipped or not). Errors name the file and what is wrong.
 * `firstItems`: only that many leading items are wanted (the array holds no more).
 */
export function readIdx(path: string, firstItems?: number): IdxArray {
  const name = basename(path);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new Error(`${name}: cannot read ${path}: ${(e as Error).message}`);
  }
  if (path.endsWith('.gz') || isGzip(bytes)) {
    if (!isGzip(bytes)) throw new Error(`${name}: not gzip data (the name ends in .gz but the file does not start with 1f 8b)`);
    try {
      bytes = firstItems === undefined ? gunzipSync(bytes) : gunzipPrefix(bytes, firstItems);
    } catch (e) {
      throw new Error(`${name}: corrupt or truncated gzip data: ${(e as Error).message}`);
    }
  }
  return parseIdx(bytes, name, firstItems);
}

/** Parses the bytes of an (already gunzipped) IDX file; `name` labels the errors. `firstItems`: as readIdx. */
export function parseIdx(bytes: Uint8Array, name = 'IDX data', firstItems?: number): IdxArray {
  if (bytes.length < 4) {
    throw new Error(`${name}: truncated: ${bytes.length} bytes, too short for the 4-byte IDX magic`);
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    const magic = Array.from(bytes.subarray(0, 4), hex).join(' ');
    throw new Error(`${name}: bad magic ${magic}: an IDX file starts with 0x00 0x00, a type byte and a dimension count`);
  }
  const dtype = bytes[2];
  if (dtype !== UNSIGNED_BYTE) {
    const known = DTYPE_NAMES[dtype];
    throw new Error(
      known
        ? `${name}: unsupported data type ${hex(dtype)} (${known}); only ${hex(UNSIGNED_BYTE)} (unsigned byte) is supported`
        : `${name}: bad magic: unknown data type ${hex(dtype)}`,
    );
  }
  const ndims = bytes[3];
  if (ndims === 0) throw new Error(`${name}: bad header: zero dimensions`);
  const headerBytes = 4 + 4 * ndims;
  if (bytes.length < headerBytes) {
    throw new Error(`${name}: truncated: header of ${ndims} dimensions needs ${headerBytes} bytes, file has ${bytes.length}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const expected = dims.reduce((a, b) => a * b, 1);
  const actual = bytes.length - headerBytes;
  const shape = `${dims.join('×')} = ${expected} bytes of data`;
  if (firstItems !== undefined && firstItems < dims[0]) {
    // A prefix: the file's own length cannot be checked here, only that the wanted items are whole.
    const kept = [firstItems, ...dims.slice(1)];
    const wanted = kept.reduce((a, b) => a * b, 1);
    if (actual < wanted) throw new Error(`${name}: truncated: its first ${firstItems} items need ${wanted} bytes of data, file has ${actual}`);
    return { dims: kept, data: bytes.subarray(headerBytes, headerBytes + wanted), fileItems: dims[0] };
  }
  if (actual < expected) throw new Error(`${name}: truncated: header says ${shape}, file has ${actual}`);
  if (actual > expected) throw new Error(`${name}: ${actual - expected} unexpected trailing bytes: header says ${shape}, file has ${actual}`);
  return { dims, data: bytes.subarray(headerBytes) };
}

/** Encodes unsigned bytes as an IDX file. */
export function encodeIdx(array: IdxArray): Uint8Array {
  const expected = array.dims.reduce((a, b) => a * b, 1);
  if (array.data.length !== expected) {
    throw new Error(`encodeIdx: dims ${array.dims.join('×')} need ${expected} values, got ${array.data.length}`);
  }
  if (array.dims.length === 0 || array.dims.length > 255) throw new Error(`encodeIdx: ${array.dims.length} dimensions`);
  const header = new Uint8Array(4 + 4 * array.dims.length);
  const view = new DataView(header.buffer);
  header[2] = UNSIGNED_BYTE;
  header[3] = array.dims.length;
  array.dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  const out = new Uint8Array(header.length + array.data.length);
  out.set(header, 0);
  out.set(array.data, header.length);
  return out;
}

/** Writes an IDX file of unsigned bytes, gzipped when the path ends in .gz. */
export function writeIdx(path: string, array: IdxArray): void {
  const bytes = encodeIdx(array);
  writeFileSync(path, path.endsWith('.gz') ? gzipSync(bytes, { level: 9 }) : bytes);
}
