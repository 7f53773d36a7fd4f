// Per-tensor summaries, computed in JS on values already read back from the backend: measured
// cheaper here than on-device reductions on wasm and cpu (DESIGN.md, "Capture policy").
import type { TensorStats } from '../../shared/traceTypes';

export const HISTOGRAM_BINS = 64;

export function summarize(values: Float32Array, shape?: number[]): TensorStats {
  const n = values.length;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let sumSq = 0;
  let zeros = 0;
  let nan = 0;
  let inf = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v === 0) {
      zeros++;
      continue;
    }
    if (v !== v) {
      nan++;
      continue;
    }
    if (v === Infinity || v === -Infinity) {
      inf++;
      continue;
    }
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
    sumSq += v * v;
  }
  const finite = n - nan - inf;
  if (zeros > 0) {
    if (min > 0) min = 0;
    if (max < 0) max = 0;
  }
  if (finite === 0) {
    min = 0;
    max = 0;
  }
  const mean = finite > 0 ? sum / finite : 0;
  const variance = finite > 0 ? Math.max(0, sumSq / finite - mean * mean) : 0;
  const stats: TensorStats = {
    count: n,
    mean,
    std: Math.sqrt(variance),
    min,
    max,
    l2: Math.sqrt(sumSq),
    zeroFraction: n > 0 ? zeros / n : 0,
    nanCount: nan,
    infCount: inf,
    histogram: histogram(values, min, max),
  };
  if (shape && shape.length >= 2) stats.deadUnitFraction = deadUnitFraction(values, shape[0]);
  return stats;
}

/** 64 equal bins over [min, max]; non-finite values are left out (they are counted apart). */
export function histogram(values: Float32Array, min: number, max: number): Uint32Array {
  const bins = new Uint32Array(HISTOGRAM_BINS);
  const width = max - min;
  if (!(width > 0)) {
    let finite = 0;
    for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) finite++;
    bins[0] = finite;
    return bins;
  }
  const scale = HISTOGRAM_BINS / width;
  const last = HISTOGRAM_BINS - 1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(v >= min && v <= max)) continue; // NaN and ±Inf fail both comparisons or fall outside
    let b = ((v - min) * scale) | 0;
    if (b > last) b = last;
    bins[b]++;
  }
  return bins;
}

/** Fraction of units (positions after the batch dimension) that are zero in every example. */
export function deadUnitFraction(values: Float32Array, batch: number): number {
  if (batch <= 0 || values.length === 0) return 0;
  const units = values.length / batch;
  // Row by row, in memory order: a strided walk per unit is several times slower.
  const alive = new Uint8Array(units);
  for (let b = 0, i = 0; b < batch; b++) {
    for (let u = 0; u < units; u++, i++) if (values[i] !== 0) alive[u] = 1;
  }
  let dead = 0;
  for (let u = 0; u < units; u++) if (alive[u] === 0) dead++;
  return dead / units;
}
