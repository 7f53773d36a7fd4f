// One keyframe file: a step's full tensors (whole batches, all parameters), compressed. Framed
// like a step record (magic, flags, payload length, CRC-32 of the header) so a torn or damaged
// file is told from a whole one; the payload is a JSON header naming each tensor, its shape, how
// it is stored and its own CRC-32, then each tensor's bytes (so damage is located to a tensor). Every tensor is stored as its float32 (or, for
// 'float16' precision, half) bytes split into planes and deflated; raw when that does not shrink it.
import * as zlib from 'node:zlib';
import type { KeyframePrecision, TensorValues } from '../shared/traceTypes';
import { fromHalves, fromPlanes, toHalves, toPlanes } from './floatPacking';

export const KEYFRAME_DIR = 'keyframes';
export const KEYFRAME_MAGIC = 0x464b4c47; // "GLKF" little-endian
const FRAME_BYTES = 16;

/** How one tensor's values are stored: precision, then whether the byte planes are deflated. */
export type TensorEncoding = 'f32' | 'f32-planes-deflate' | 'f16' | 'f16-planes-deflate';
const ENCODINGS = new Set<string>(['f32', 'f32-planes-deflate', 'f16', 'f16-planes-deflate']);

interface StoredTensor extends Omit<TensorValues, 'values'> {
  length: number;
  encoding: TensorEncoding;
  bytes: number;
  crc: number;
}

interface KeyframeHeader {
  step: number;
  tensors: StoredTensor[];
}

/** The file a step's keyframe is kept in (zero-padded, so names sort by step). */
export function keyframeFileName(step: number): string {
  return `step-${String(step).padStart(10, '0')}.glk`;
}

/** The step a keyframe file name holds, or undefined for anything else in the folder (a temp file, say). */
export function stepOfKeyframeFile(name: string): number | undefined {
  const m = /^step-(\d{10})\.glk$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/**
 * Run-length + Huffman only: on the seed MLP's keyframe planes it came out smaller than deflate's
 * string matching at level 1 (2.49 against 2.57 MB for 3.43 MB) and several times faster — the
 * values' bytes rarely repeat as strings, the high planes repeat as runs.
 */
const DEFLATE = { level: 1, strategy: zlib.constants.Z_RLE };

function encodeTensor(values: Float32Array, precision: KeyframePrecision, compress: boolean): { encoding: TensorEncoding; data: Uint8Array } {
  const half = precision === 'float16';
  const typed = half ? toHalves(values) : values;
  const raw = new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
  if (!compress) return { encoding: half ? 'f16' : 'f32', data: raw };
  const deflated = zlib.deflateRawSync(toPlanes(raw, half ? 2 : 4), DEFLATE);
  if (deflated.length < raw.length) return { encoding: half ? 'f16-planes-deflate' : 'f32-planes-deflate', data: deflated };
  return { encoding: half ? 'f16' : 'f32', data: raw };
}

/**
 * A keyframe file's bytes: the full tensors of `step`, at `precision`, deflated unless `compress`
 * is false (the byte planes and deflate take ≈ 40 ms for the seed model's 3.4 MB).
 */
export function encodeKeyframe(step: number, tensors: TensorValues[], precision: KeyframePrecision = 'exact', compress = true): Buffer {
  const blobs: Uint8Array[] = [];
  const stored: StoredTensor[] = tensors.map(({ values, ...t }) => {
    const { encoding, data } = encodeTensor(values, precision, compress);
    blobs.push(data);
    return { ...t, length: values.length, encoding, bytes: data.length, crc: zlib.crc32(data) };
  });
  const json = Buffer.from(JSON.stringify({ step, tensors: stored } satisfies KeyframeHeader));
  const jsonPadded = (4 + json.length + 3) & ~3;
  const payload = Buffer.alloc(jsonPadded + blobs.reduce((n, b) => n + b.length, 0));
  payload.writeUInt32LE(json.length, 0);
  json.copy(payload, 4);
  let at = jsonPadded;
  for (const b of blobs) {
    payload.set(b, at);
    at += b.length;
  }
  const frame = Buffer.alloc(FRAME_BYTES);
  frame.writeUInt32LE(KEYFRAME_MAGIC, 0);
  frame.writeUInt32LE(0, 4);
  frame.writeUInt32LE(payload.length, 8);
  frame.writeUInt32LE(zlib.crc32(payload.subarray(0, jsonPadded)), 12);
  return Buffer.concat([frame, payload]);
}

/** A keyframe file that cannot be read: `file` and `offset` say where (the byte the problem starts at). */
export class CorruptKeyframeError extends Error {
  constructor(
    readonly file: string,
    readonly offset: number,
    reason: string,
  ) {
    super(`${file}: damaged keyframe at byte ${offset} (${reason})`);
  }
}

function decodeTensor(data: Uint8Array, t: StoredTensor): Float32Array {
  const half = t.encoding.startsWith('f16');
  const width = half ? 2 : 4;
  const expected = t.length * width;
  const planes = t.encoding.endsWith('deflate') ? zlib.inflateRawSync(data) : undefined;
  const got = planes ? planes.length : data.length;
  if (got !== expected) throw new Error(`it holds ${got} bytes of values, not the ${expected} its header says`);
  // Into an aligned buffer of its own: the file's bytes sit at any offset.
  const aligned = new Uint8Array(expected);
  if (planes) fromPlanes(planes, width, aligned);
  else aligned.set(data);
  return half ? fromHalves(new Uint16Array(aligned.buffer)) : new Float32Array(aligned.buffer);
}

/** The tensors of a keyframe file, checked; any damage throws a CorruptKeyframeError naming `file` and the byte. */
export function decodeKeyframe(buf: Buffer, file: string, step?: number): TensorValues[] {
  const fail = (offset: number, reason: string): never => {
    throw new CorruptKeyframeError(file, offset, reason);
  };
  if (buf.length < FRAME_BYTES) fail(0, `the file is ${buf.length} bytes, shorter than its ${FRAME_BYTES}-byte frame`);
  if (buf.readUInt32LE(0) !== KEYFRAME_MAGIC) fail(0, 'not a keyframe file (bad magic)');
  const payloadLength = buf.readUInt32LE(8);
  if (buf.length < FRAME_BYTES + payloadLength) fail(buf.length, `the file is cut short: ${FRAME_BYTES + payloadLength - buf.length} of its ${FRAME_BYTES + payloadLength} bytes are missing`);
  const payload = buf.subarray(FRAME_BYTES, FRAME_BYTES + payloadLength);
  const jsonLength = payload.length >= 4 ? payload.readUInt32LE(0) : Infinity;
  if (4 + jsonLength > payload.length) fail(FRAME_BYTES, 'its header overruns the file');
  const headerEnd = (4 + jsonLength + 3) & ~3;
  if (zlib.crc32(payload.subarray(0, headerEnd)) !== buf.readUInt32LE(12)) fail(FRAME_BYTES, 'the checksum of its header does not match');
  let header: KeyframeHeader;
  try {
    header = JSON.parse(payload.toString('utf8', 4, 4 + jsonLength)) as KeyframeHeader;
  } catch (e) {
    return fail(FRAME_BYTES + 4, `its header is not JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(header.tensors)) fail(FRAME_BYTES + 4, 'its header lists no tensors');
  if (step !== undefined && header.step !== step) fail(FRAME_BYTES + 4, `it holds step ${String(header.step)}, not ${step}`);
  let at = headerEnd;
  return header.tensors.map((t, k) => {
    const where = FRAME_BYTES + at;
    if (!ENCODINGS.has(t.encoding)) fail(where, `tensor ${k} has an unknown encoding ${JSON.stringify(t.encoding)}`);
    if (!Number.isSafeInteger(t.bytes) || t.bytes < 0 || at + t.bytes > payload.length) fail(where, `tensor ${k}'s ${String(t.bytes)} bytes run past the end of the file`);
    const data = payload.subarray(at, at + t.bytes);
    at += t.bytes;
    if (zlib.crc32(data) !== t.crc) fail(where, `tensor ${k} (layer ${t.layer} ${t.role}${t.param ? ` ${t.param}` : ''}): its checksum does not match`);
    const { length: _length, encoding: _encoding, bytes: _bytes, crc: _crc, ...rest } = t;
    try {
      return { ...rest, values: decodeTensor(data, t) };
    } catch (e) {
      return fail(where, `tensor ${k} (layer ${t.layer} ${t.role}${t.param ? ` ${t.param}` : ''}): ${(e as Error).message}`);
    }
  });
}
