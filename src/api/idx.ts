// IDX files, the format of MNIST and Fashion-MNIST: a 4-byte magic (0, 0, dtype, number of
// dimensions), one big-endian uint32 per dimension, then the values in row-major order.
// Files ending in .gz (or starting with the gzip magic) are gunzipped transparently.
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
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

/** Reads an IDX file of unsigned bytes (gzipped or not). Errors name the file and what is wrong. */
export function readIdx(path: string): IdxArray {
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
      bytes = gunzipSync(bytes);
    } catch (e) {
      throw new Error(`${name}: corrupt or truncated gzip data: ${(e as Error).message}`);
    }
  }
  return parseIdx(bytes, name);
}

/** Parses the bytes of an (already gunzipped) IDX file; `name` labels the errors. */
export function parseIdx(bytes: Uint8Array, name = 'IDX data'): IdxArray {
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
