// Host messages may carry typed arrays as typed arrays (VS Code transfers them) or as plain
// arrays / index-keyed objects (after a JSON round trip). Normalise once on arrival, so the views
// can index everything as numbers.
import type { StepRecord, TensorSummary, TensorValues } from '../src/shared/traceTypes';

export function toFloat32(v: unknown): Float32Array {
  if (v instanceof Float32Array) return v;
  if (ArrayBuffer.isView(v)) return new Float32Array(v as unknown as ArrayLike<number>);
  if (Array.isArray(v)) return Float32Array.from(v, Number);
  if (typeof v === 'object' && v !== null) return Float32Array.from(Object.values(v), Number);
  return new Float32Array(0);
}

function toCounts(v: unknown): Uint32Array {
  if (v instanceof Uint32Array) return v;
  if (ArrayBuffer.isView(v)) return new Uint32Array(v as unknown as ArrayLike<number>);
  if (Array.isArray(v)) return Uint32Array.from(v, Number);
  if (typeof v === 'object' && v !== null) return Uint32Array.from(Object.values(v), Number);
  return new Uint32Array(0);
}

function normalizeSummary(s: TensorSummary): TensorSummary {
  if (s.stats) s.stats.histogram = toCounts(s.stats.histogram);
  return s;
}

function normalizeTensor(t: TensorValues): TensorValues {
  t.values = toFloat32(t.values);
  return t;
}

export function normalizeRecord(record: StepRecord): StepRecord {
  record.summaries = (record.summaries ?? []).map(normalizeSummary);
  record.tensors = (record.tensors ?? []).map(normalizeTensor);
  return record;
}

export function findSummary(
  record: StepRecord | undefined,
  layer: number,
  role: TensorSummary['role'],
  param?: string,
): TensorSummary | undefined {
  return record?.summaries.find((s) => s.layer === layer && s.role === role && (param === undefined || s.param === param));
}

export function findTensor(
  record: StepRecord | undefined,
  layer: number,
  role: TensorValues['role'],
  param?: string,
): TensorValues | undefined {
  return record?.tensors.find((t) => t.layer === layer && t.role === role && (param === undefined || t.param === param));
}

/** The first example's row of a per-sample or whole-batch tensor (the selected sample). */
export function firstRow(t: TensorValues): Float32Array {
  if (t.scope === 'full') return t.values;
  const rows = t.shape[0] ?? 1;
  const width = rows > 0 ? Math.floor(t.values.length / rows) : t.values.length;
  return t.values.subarray(0, width);
}
