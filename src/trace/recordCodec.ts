// The binary layout of one step record and of one index entry. A record is framed so a reader
// can tell a whole record from a torn one: magic, flags, payload length, CRC-32 of the payload.
// The payload is a small JSON header followed by the histograms (u32) and kept tensors (f32).
import * as zlib from 'node:zlib';
import { fromPlanes, toPlanes } from './floatPacking';
import { HISTOGRAM_BINS, type StepIndexEntry, type StepRecord, type TensorStats, type TensorSummary, type TensorValues } from '../shared/traceTypes';

export const DATA_FILE = 'steps.bin';
export const INDEX_FILE = 'index.bin';
export const META_FILE = 'meta.json';
export const END_FILE = 'end.json';

export const DATA_HEADER = Buffer.from('GLSTEPS1');
export const INDEX_HEADER = Buffer.from('GLINDEX1');
export const RECORD_MAGIC = 0x524c4753; // "GSLR" little-endian
export const FRAME_BYTES = 16;
export const INDEX_ENTRY_BYTES = 32;

const FLAG_DEFLATED = 1;
/**
 * The histograms' u32 counts are stored as 4 byte planes (floatPacking.ts): their high bytes are
 * nearly all zero, and deflate then takes a step's 31 histograms from 2.7 kB to 1.8 kB (seed MLP).
 * Records written before this flag existed have it clear and read as they always did.
 */
const FLAG_HISTOGRAM_PLANES = 2;
/** Records above this are stored raw (written before keyframes had files of their own: deflating weights in one stream saved little). */
const DEFLATE_BELOW = 256 * 1024;

type StatsHeader = Omit<TensorStats, 'histogram'>;
interface SummaryHeader extends Omit<TensorSummary, 'stats'> {
  stats?: StatsHeader;
}
interface TensorHeader extends Omit<TensorValues, 'values'> {
  length: number;
}
interface RecordHeader extends Omit<StepRecord, 'summaries' | 'tensors'> {
  summaries: SummaryHeader[];
  tensors: TensorHeader[];
}

// JSON has no NaN or Infinity, and a diverging run is exactly when they matter.
const NON_FINITE = new Set(['NaN', 'Infinity', '-Infinity']);
function keepNonFinite(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;
}
function restoreNonFinite(_key: string, value: unknown): unknown {
  return typeof value === 'string' && NON_FINITE.has(value) ? Number(value) : value;
}

export function encodeRecord(record: StepRecord): Buffer {
  const { summaries, tensors, ...rest } = record;
  const header: RecordHeader = {
    ...rest,
    summaries: summaries.map(({ stats, ...s }) => {
      if (!stats) return s;
      const { histogram: _histogram, ...numbers } = stats;
      return { ...s, stats: numbers };
    }),
    tensors: tensors.map(({ values, ...t }) => ({ ...t, length: values.length })),
  };
  const json = Buffer.from(JSON.stringify(header, keepNonFinite));
  const jsonPadded = (4 + json.length + 3) & ~3;
  const histCount = summaries.filter((s) => s.stats).length;
  const valueCount = tensors.reduce((n, t) => n + t.values.length, 0);
  const raw = Buffer.alloc(jsonPadded + histCount * HISTOGRAM_BINS * 4 + valueCount * 4);
  raw.writeUInt32LE(json.length, 0);
  json.copy(raw, 4);
  let offset = jsonPadded;
  for (const s of summaries) {
    if (!s.stats) continue;
    Buffer.from(s.stats.histogram.buffer, s.stats.histogram.byteOffset, HISTOGRAM_BINS * 4).copy(raw, offset);
    offset += HISTOGRAM_BINS * 4;
  }
  raw.set(toPlanes(raw.subarray(jsonPadded, offset), 4), jsonPadded);
  for (const t of tensors) {
    Buffer.from(t.values.buffer, t.values.byteOffset, t.values.byteLength).copy(raw, offset);
    offset += t.values.byteLength;
  }
  const deflate = raw.length < DEFLATE_BELOW;
  const payload = deflate ? zlib.deflateRawSync(raw, { level: 1 }) : raw;
  const frame = Buffer.alloc(FRAME_BYTES);
  frame.writeUInt32LE(RECORD_MAGIC, 0);
  frame.writeUInt32LE((deflate ? FLAG_DEFLATED : 0) | FLAG_HISTOGRAM_PLANES, 4);
  frame.writeUInt32LE(payload.length, 8);
  frame.writeUInt32LE(zlib.crc32(payload), 12);
  return Buffer.concat([frame, payload]);
}

export interface Frame {
  flags: number;
  payloadLength: number;
  crc: number;
}

/** Reads a frame header; undefined when the bytes are not one (torn or corrupt). */
export function readFrame(buf: Buffer, at = 0): Frame | undefined {
  if (buf.length - at < FRAME_BYTES || buf.readUInt32LE(at) !== RECORD_MAGIC) return undefined;
  return { flags: buf.readUInt32LE(at + 4), payloadLength: buf.readUInt32LE(at + 8), crc: buf.readUInt32LE(at + 12) };
}

export class CorruptRecordError extends Error {}

/** Decodes a whole framed record (frame + payload), checking its checksum. */
export function decodeRecord(framed: Buffer): StepRecord {
  const frame = readFrame(framed);
  if (!frame) throw new CorruptRecordError('not a step record (bad magic)');
  const payload = framed.subarray(FRAME_BYTES, FRAME_BYTES + frame.payloadLength);
  if (payload.length !== frame.payloadLength) throw new CorruptRecordError('record is truncated');
  if (zlib.crc32(payload) !== frame.crc) throw new CorruptRecordError('record checksum does not match');
  const raw = frame.flags & FLAG_DEFLATED ? zlib.inflateRawSync(payload) : payload;
  const jsonLength = raw.readUInt32LE(0);
  const header = JSON.parse(raw.toString('utf8', 4, 4 + jsonLength), restoreNonFinite) as RecordHeader;
  // Copy the binary part into an aligned buffer so typed-array views need no per-tensor copy.
  const binStart = (4 + jsonLength + 3) & ~3;
  const bin = new ArrayBuffer(raw.length - binStart);
  new Uint8Array(bin).set(raw.subarray(binStart));
  const histBytes = header.summaries.filter((s) => s.stats).length * HISTOGRAM_BINS * 4;
  if (frame.flags & FLAG_HISTOGRAM_PLANES) fromPlanes(raw.subarray(binStart, binStart + histBytes), 4, new Uint8Array(bin, 0, histBytes));
  let offset = 0;
  const summaries: TensorSummary[] = header.summaries.map((s) => {
    if (!s.stats) return s as TensorSummary;
    const histogram = new Uint32Array(bin, offset, HISTOGRAM_BINS);
    offset += HISTOGRAM_BINS * 4;
    return { ...s, stats: { ...s.stats, histogram } };
  });
  const tensors: TensorValues[] = header.tensors.map(({ length, ...t }) => {
    const values = new Float32Array(bin, offset, length);
    offset += length * 4;
    return { ...t, values };
  });
  return { ...header, summaries, tensors };
}

/**
 * A record's summaries without its kept tensors, reading only the bytes they need: a keyframe
 * holds megabytes of weights behind them. `read(offset, length)` reads the data file. (Unlike
 * decodeRecord, this cannot check the payload's CRC: it does not read the whole payload.)
 */
export function readRecordSummaries(read: (offset: number, length: number) => Buffer, at: number, length: number): TensorSummary[] {
  const frame = readFrame(read(at, FRAME_BYTES));
  if (!frame) throw new CorruptRecordError('not a step record (bad magic)');
  if (frame.flags & FLAG_DEFLATED) return decodeRecord(read(at, length)).summaries;
  const payload = at + FRAME_BYTES;
  const jsonLength = read(payload, 4).readUInt32LE(0);
  if (4 + jsonLength > frame.payloadLength) throw new CorruptRecordError('record header overruns the record');
  const header = JSON.parse(read(payload + 4, jsonLength).toString('utf8'), restoreNonFinite) as RecordHeader;
  const withStats = header.summaries.filter((s) => s.stats).length;
  const hist = read(payload + ((4 + jsonLength + 3) & ~3), withStats * HISTOGRAM_BINS * 4);
  const bins = new Uint32Array(frame.flags & FLAG_HISTOGRAM_PLANES ? fromPlanes(hist, 4).buffer : hist.buffer.slice(hist.byteOffset, hist.byteOffset + hist.length));
  let k = 0;
  return header.summaries.map((s) => {
    if (!s.stats) return s as TensorSummary;
    const histogram = bins.subarray(k * HISTOGRAM_BINS, (k + 1) * HISTOGRAM_BINS);
    k++;
    return { ...s, stats: { ...s.stats, histogram } };
  });
}

export function encodeIndexEntry(entry: StepIndexEntry, offset: number, length: number): Buffer {
  const b = Buffer.alloc(INDEX_ENTRY_BYTES);
  b.writeUInt32LE(entry.step, 0);
  b.writeUInt32LE(0, 4);
  b.writeDoubleLE(offset, 8);
  b.writeUInt32LE(length, 16);
  b.writeFloatLE(entry.loss, 20);
  b.writeFloatLE(entry.accuracy ?? NaN, 24);
  b.writeFloatLE(entry.testAccuracy ?? NaN, 28);
  return b;
}

export function indexEntryOf(record: StepRecord): StepIndexEntry {
  return {
    step: record.step,
    loss: record.loss,
    accuracy: record.accuracy ?? null,
    testAccuracy: record.testAccuracy ?? null,
  };
}
