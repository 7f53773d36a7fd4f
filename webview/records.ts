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

/** The batch index of the sample the panel shows: the first one kept. */
export function selectedSampleIndex(record: StepRecord | undefined): number {
  return record?.samples?.[0]?.index ?? record?.tensors.find((t) => t.scope === 'sample')?.sampleIndices?.[0] ?? 0;
}

/** The row of batch example `batchIndex` in a per-sample or whole-batch tensor (the whole of a parameter). */
export function sampleRow(t: TensorValues, batchIndex: number): Float32Array {
  if (t.scope === 'full') return t.values;
  const rows = t.shape[0] ?? 1;
  const width = rows > 0 ? Math.floor(t.values.length / rows) : t.values.length;
  const found = t.scope === 'sample' ? (t.sampleIndices?.indexOf(batchIndex) ?? -1) : batchIndex;
  const row = found >= 0 && found < rows ? found : 0;
  return t.values.subarray(row * width, (row + 1) * width);
}
