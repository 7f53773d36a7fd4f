// Per-tensor summaries, computed in JS on values already read back from the backend: measured
// cheaper here than on-device reductions on wasm and cpu (DESIGN.md, "Capture policy").
import type { TensorStats } from '../../shared/traceTypes';

export const HISTOGRAM_BINS = 64;

/** Above this many values, the histogram is taken from an even 1-in-k sample (the moments stay exact). */
export const HISTOGRAM_SAMPLE_LIMIT = 65_536;

interface Moments {
  min: number;
  max: number;
  sum: number;
  sumSq: number;
  zeros: number;
  nan: number;
  inf: number;
}

/**
 * One branch-free pass (twice as fast as a branchy one on real data, whose signs are random);
 * only a tensor holding NaN or ±Inf, which poisons the sums, takes the careful pass.
 */
function moments(values: Float32Array): Moments {
  const n = values.length;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let sumSq = 0;
  let zeros = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    min = v < min ? v : min;
    max = v > max ? v : max;
    sum += v;
    sumSq += v * v;
    zeros += v === 0 ? 1 : 0;
  }
  if (Number.isFinite(sumSq)) return { min, max, sum, sumSq, zeros, nan: 0, inf: 0 };
  return carefulMoments(values);
}

function carefulMoments(values: Float32Array): Moments {
  const m: Moments = { min: Infinity, max: -Infinity, sum: 0, sumSq: 0, zeros: 0, nan: 0, inf: 0 };
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== v) m.nan++;
    else if (v === Infinity || v === -Infinity) m.inf++;
    else {
      if (v === 0) m.zeros++;
      if (v < m.min) m.min = v;
      if (v > m.max) m.max = v;
      m.sum += v;
      m.sumSq += v * v;
    }
  }
  return m;
}

/** Reused for differences, so summarising ΔW allocates nothing (one per thread). */
let scratch = new Float32Array(0);

/** values − baseline, in float32 as a stored ΔW would be, into the reused scratch buffer. */
function differenceInScratch(values: Float32Array, baseline: Float32Array): Float32Array {
  if (scratch.length < values.length) scratch = new Float32Array(values.length);
  const out = scratch.subarray(0, values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i] - baseline[i];
  return out;
}

/**
 * Statistics of `values`, or of `values − baseline` when a baseline is given (ΔW = after −
 * before). The loops read typed arrays directly: an accessor closure would stop V8 inlining
 * them once both kinds had run (2× slower, measured in bench/).
 */
export function summarize(raw: Float32Array, shape?: number[], baseline?: Float32Array): TensorStats {
  const values = baseline ? differenceInScratch(raw, baseline) : raw;
  const n = values.length;
  const { sum, sumSq, zeros, nan, inf, ...range } = moments(values);
  const finite = n - nan - inf;
  const [min, max] = finite > 0 ? [range.min, range.max] : [0, 0];
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
    histogram: histogram(values, min, max, finite),
  };
  if (shape && shape.length >= 2 && !baseline) stats.deadUnitFraction = deadUnitFraction(values, shape[0]);
  return stats;
}

/**
 * 64 equal bins over [min, max]; non-finite values are left out (they are counted apart). For
 * large tensors, one value in k is binned and the counts scaled to the finite total.
 */
export function histogram(values: Float32Array, min: number, max: number, finite: number): Uint32Array {
  const n = values.length;
  const bins = new Uint32Array(HISTOGRAM_BINS);
  const width = max - min;
  if (!(width > 0)) {
    bins[0] = finite;
    return bins;
  }
  const stride = Math.max(1, Math.ceil(n / HISTOGRAM_SAMPLE_LIMIT));
  const scale = HISTOGRAM_BINS / width;
  const last = HISTOGRAM_BINS - 1;
  const counts = stride === 1 ? bins : new Float64Array(HISTOGRAM_BINS);
  let binned = 0;
  // One value from each run of `stride`, at a pseudo-random offset within the run (stratified):
  // a fixed stride would alias with the rows and columns of a weight matrix.
  let jitter = 0x9e3779b9;
  for (let start = 0; start < n; start += stride) {
    let i = start;
    if (stride > 1) {
      jitter = (Math.imul(jitter, 1664525) + 1013904223) >>> 0;
      i = Math.min(n - 1, start + (jitter % stride));
    }
    const v = values[i];
    if (!(v >= min && v <= max)) continue; // NaN and ±Inf fail both comparisons or fall outside
    let b = ((v - min) * scale) | 0;
    if (b > last) b = last;
    counts[b]++;
    binned++;
  }
  if (stride > 1 && binned > 0) {
    // Scale the sample to the whole, rounding so the bins add up to the finite count exactly.
    let assigned = 0;
    let biggest = 0;
    for (let b = 0; b < HISTOGRAM_BINS; b++) {
      bins[b] = Math.round((counts[b] * finite) / binned);
      assigned += bins[b];
      if (bins[b] > bins[biggest]) biggest = b;
    }
    bins[biggest] += finite - assigned;
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
