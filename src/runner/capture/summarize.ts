// Per-tensor summaries, computed in JS on values already read back from the backend: measured
// cheaper here than on-device reductions on wasm and cpu (DESIGN.md, "Capture policy").
import { HISTOGRAM_BINS, type TensorStats } from '../../shared/traceTypes';
import { MOMENTS_WASM_BASE64 } from './momentsWasm';


/** Above this many values, the histogram is taken from an even 1-in-k sample (the moments stay exact). */
export const HISTOGRAM_SAMPLE_LIMIT = 65_536;

/**
 * The hot loops run over blocks of this many values, one call per block. A loop of hundreds of
 * thousands of iterations in one call gets on-stack-replaced by V8, and that code ran 2.5–7×
 * slower here than the same function compiled on entry (bench/NOTES.md); a short block
 * returns before OSR and the next call takes the optimised code.
 */
const BLOCK = 4096;

interface Moments {
  min: number;
  max: number;
  sum: number;
  sumSq: number;
  zeros: number;
  nan: number;
  inf: number;
}


// Two accumulators per moment, for even and odd elements, halve each loop-carried chain; the zero
// count adds a 0/1 (a branch mispredicts on ReLU outputs, half of which are zero); min and max
// are branches, almost never taken once the first values are in.

function momentsBlock(values: Float32Array, from: number, to: number, acc: Float64Array): void {
  let min0 = acc[0];
  let max0 = acc[1];
  let min1 = min0;
  let max1 = max0;
  let sum0 = acc[2];
  let sum1 = 0;
  let sq0 = acc[3];
  let sq1 = 0;
  let zeros = 0;
  const pairsEnd = from + ((to - from) & ~1);
  let i = from;
  for (; i < pairsEnd; i += 2) {
    const a = values[i];
    const b = values[i + 1];
    if (a < min0) min0 = a;
    if (a > max0) max0 = a;
    if (b < min1) min1 = b;
    if (b > max1) max1 = b;
    sum0 += a;
    sum1 += b;
    sq0 += a * a;
    sq1 += b * b;
    zeros += +(a === 0) + +(b === 0);
  }
  if (i < to) {
    const a = values[i];
    if (a < min0) min0 = a;
    if (a > max0) max0 = a;
    sum0 += a;
    sq0 += a * a;
    zeros += +(a === 0);
  }
  acc[0] = min0 < min1 ? min0 : min1;
  acc[1] = max0 > max1 ? max0 : max1;
  acc[2] = sum0 + sum1;
  acc[3] = sq0 + sq1;
  acc[4] += zeros;
}

/** The same over values − baseline, rounded to float32 as a stored ΔW would be, with no scratch array. */
function differenceMomentsBlock(values: Float32Array, baseline: Float32Array, from: number, to: number, acc: Float64Array): void {
  let min0 = acc[0];
  let max0 = acc[1];
  let min1 = min0;
  let max1 = max0;
  let sum0 = acc[2];
  let sum1 = 0;
  let sq0 = acc[3];
  let sq1 = 0;
  let zeros = 0;
  const pairsEnd = from + ((to - from) & ~1);
  let i = from;
  for (; i < pairsEnd; i += 2) {
    const a = Math.fround(values[i] - baseline[i]);
    const b = Math.fround(values[i + 1] - baseline[i + 1]);
    if (a < min0) min0 = a;
    if (a > max0) max0 = a;
    if (b < min1) min1 = b;
    if (b > max1) max1 = b;
    sum0 += a;
    sum1 += b;
    sq0 += a * a;
    sq1 += b * b;
    zeros += +(a === 0) + +(b === 0);
  }
  if (i < to) {
    const a = Math.fround(values[i] - baseline[i]);
    if (a < min0) min0 = a;
    if (a > max0) max0 = a;
    sum0 += a;
    sq0 += a * a;
    zeros += +(a === 0);
  }
  acc[0] = min0 < min1 ? min0 : min1;
  acc[1] = max0 > max1 ? max0 : max1;
  acc[2] = sum0 + sum1;
  acc[3] = sq0 + sq1;
  acc[4] += zeros;
}

interface WasmMoments {
  memory: { readonly buffer: ArrayBuffer; grow(pages: number): number };
  moments(valuesAt: number, baselineAt: number, n: number): void;
  bin(valuesAt: number, baselineAt: number, n: number, stride: number, min: number, max: number, scale: number, countsAt: number): void;
}

/** The part of the WebAssembly global used here (the project's lib has no DOM typings). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
}

/** The kernel's memory: its moments at 0, the histogram's counts at 64, the values from 320 on. */
const WASM_COUNTS_AT = 64;
const WASM_DATA_AT = WASM_COUNTS_AT + 4 * HISTOGRAM_BINS;

function loadWasmMoments(): WasmMoments | undefined {
  const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (!api) return undefined;
  try {
    const module = new api.Module(Buffer.from(MOMENTS_WASM_BASE64, 'base64'));
    return new api.Instance(module).exports as WasmMoments;
  } catch {
    return undefined; // no WebAssembly SIMD here: the JS kernel does the same
  }
}

const wasm = loadWasmMoments();
let kernel: 'wasm' | 'js' = wasm ? 'wasm' : 'js';

/**
 * Which moments kernel summarize() uses: WebAssembly SIMD (the default where it loads; ≈ 2×
 * faster than the JS one, copy into its memory included, measured in bench/) or JS. For the
 * tests and the bench, which run both. Returns the one now in use.
 */
export function useMomentsKernel(kind: 'wasm' | 'js'): 'wasm' | 'js' {
  kernel = kind === 'wasm' && wasm ? 'wasm' : 'js';
  return kernel;
}

function wasmMoments(k: WasmMoments, values: Float32Array, baseline: Float32Array | undefined): Float64Array {
  const n = values.length;
  const need = WASM_DATA_AT + n * 4 * (baseline ? 2 : 1);
  const have = k.memory.buffer.byteLength;
  if (have < need) k.memory.grow(Math.ceil((need - have) / 65_536));
  const heap = new Float32Array(k.memory.buffer);
  heap.set(values, WASM_DATA_AT / 4);
  if (baseline) heap.set(baseline, WASM_DATA_AT / 4 + n);
  k.moments(WASM_DATA_AT, baseline ? WASM_DATA_AT + n * 4 : 0, n);
  return new Float64Array(k.memory.buffer, 0, 5);
}

function jsMoments(values: Float32Array, baseline: Float32Array | undefined): Float64Array {
  const n = values.length;
  // min, max, sum, Σv², zeros: carried from block to block.
  const acc = Float64Array.of(Infinity, -Infinity, 0, 0, 0);
  for (let from = 0; from < n; from += BLOCK) {
    const to = Math.min(n, from + BLOCK);
    if (baseline) differenceMomentsBlock(values, baseline, from, to, acc);
    else momentsBlock(values, from, to, acc);
  }
  return acc;
}

/**
 * One pass; only a tensor holding NaN or ±Inf, which poisons the sums, takes the careful pass.
 */
function moments(values: Float32Array, baseline: Float32Array | undefined): Moments {
  const acc = kernel === 'wasm' && wasm ? wasmMoments(wasm, values, baseline) : jsMoments(values, baseline);
  if (Number.isFinite(acc[3])) return { min: acc[0], max: acc[1], sum: acc[2], sumSq: acc[3], zeros: acc[4], nan: 0, inf: 0 };
  return carefulMoments(values, baseline);
}

function carefulMoments(values: Float32Array, baseline: Float32Array | undefined): Moments {
  const m: Moments = { min: Infinity, max: -Infinity, sum: 0, sumSq: 0, zeros: 0, nan: 0, inf: 0 };
  for (let i = 0; i < values.length; i++) {
    const v = baseline ? Math.fround(values[i] - baseline[i]) : values[i];
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

/**
 * Statistics of `values`, or of `values − baseline` when a baseline is given (ΔW = after −
 * before, each difference rounded to float32 as if it had been stored), in one pass that never
 * materialises the difference.
 */
export function summarize(values: Float32Array, shape?: number[], baseline?: Float32Array): TensorStats {
  const n = values.length;
  const { sum, sumSq, zeros, nan, inf, ...range } = moments(values, baseline);
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
    histogram: kernel === 'wasm' && wasm ? wasmHistogram(wasm, n, min, max, finite, baseline !== undefined) : histogram(values, min, max, finite, baseline),
  };
  if (shape && shape.length >= 2 && !baseline) stats.deadUnitFraction = deadUnitFraction(values, shape[0]);
  return stats;
}

const last = HISTOGRAM_BINS - 1;

// The binning loops, one per kind of call (no test of the call's kind per value): each bins the
// values from `from` to `to` into `counts`. Sampled ones take one value from each run of `stride`
// at a pseudo-random place within it, from an LCG's high bits scaled to [0, stride): its low bits
// repeat with a short period, which would alias with a weight matrix's rows as a fixed stride does.
// They return the generator's state for the next block.

function binAll(values: Float32Array, from: number, to: number, min: number, max: number, scale: number, counts: Int32Array): void {
  for (let i = from; i < to; i++) {
    const v = values[i];
    if (!(v >= min && v <= max)) continue; // NaN and ±Inf fail both comparisons or fall outside
    const b = ((v - min) * scale) | 0;
    counts[b > last ? last : b]++;
  }
}

function binAllDifference(values: Float32Array, baseline: Float32Array, from: number, to: number, min: number, max: number, scale: number, counts: Int32Array): void {
  for (let i = from; i < to; i++) {
    const v = Math.fround(values[i] - baseline[i]);
    if (!(v >= min && v <= max)) continue;
    const b = ((v - min) * scale) | 0;
    counts[b > last ? last : b]++;
  }
}

function binSample(values: Float32Array, from: number, to: number, stride: number, min: number, max: number, scale: number, counts: Int32Array, seed: number): number {
  const end = values.length - 1;
  let jitter = seed;
  for (let start = from; start < to; start += stride) {
    jitter = (Math.imul(jitter, 1664525) + 1013904223) | 0;
    const at = start + (((jitter >>> 16) * stride) >>> 16);
    const v = values[at > end ? end : at];
    if (!(v >= min && v <= max)) continue;
    const b = ((v - min) * scale) | 0;
    counts[b > last ? last : b]++;
  }
  return jitter;
}

function binSampleDifference(values: Float32Array, baseline: Float32Array, from: number, to: number, stride: number, min: number, max: number, scale: number, counts: Int32Array, seed: number): number {
  const end = values.length - 1;
  let jitter = seed;
  for (let start = from; start < to; start += stride) {
    jitter = (Math.imul(jitter, 1664525) + 1013904223) | 0;
    let at = start + (((jitter >>> 16) * stride) >>> 16);
    at = at > end ? end : at;
    const v = Math.fround(values[at] - baseline[at]);
    if (!(v >= min && v <= max)) continue;
    const b = ((v - min) * scale) | 0;
    counts[b > last ? last : b]++;
  }
  return jitter;
}

/**
 * 64 equal bins over [min, max] of `values` (or of `values − baseline`); non-finite values are
 * left out (they are counted apart). For large tensors, one value from each run of k is binned,
 * at a pseudo-random place within the run (stratified), and the counts scaled to the finite total.
 */
export function histogram(values: Float32Array, min: number, max: number, finite: number, baseline?: Float32Array): Uint32Array {
  const n = values.length;
  const width = max - min;
  if (!(width > 0)) {
    const bins = new Uint32Array(HISTOGRAM_BINS);
    bins[0] = finite;
    return bins;
  }
  const stride = Math.max(1, Math.ceil(n / HISTOGRAM_SAMPLE_LIMIT));
  const scale = HISTOGRAM_BINS / width;
  const counts = new Int32Array(HISTOGRAM_BINS);
  // Blocks of whole runs, so the sample does not depend on where a block ends.
  const blockValues = BLOCK * stride;
  let jitter = 0x9e3779b9 | 0;
  for (let from = 0; from < n; from += blockValues) {
    const to = Math.min(n, from + blockValues);
    if (stride === 1) {
      if (baseline) binAllDifference(values, baseline, from, to, min, max, scale, counts);
      else binAll(values, from, to, min, max, scale, counts);
    } else if (baseline) jitter = binSampleDifference(values, baseline, from, to, stride, min, max, scale, counts, jitter);
    else jitter = binSample(values, from, to, stride, min, max, scale, counts, jitter);
  }
  return scaledBins(counts, stride, finite);
}

/** The counts as the histogram: a sample's scaled to the finite total, rounding so the bins add up to it exactly. */
function scaledBins(counts: Int32Array, stride: number, finite: number): Uint32Array {
  const bins = new Uint32Array(HISTOGRAM_BINS);
  let binned = 0;
  for (let b = 0; b < HISTOGRAM_BINS; b++) binned += counts[b];
  if (stride === 1 || binned === 0) {
    bins.set(counts);
    return bins;
  }
  let assigned = 0;
  let biggest = 0;
  for (let b = 0; b < HISTOGRAM_BINS; b++) {
    bins[b] = Math.round((counts[b] * finite) / binned);
    assigned += bins[b];
    if (bins[b] > bins[biggest]) biggest = b;
  }
  bins[biggest] += finite - assigned;
  return bins;
}

/** histogram() in the kernel, over the values wasmMoments() has just copied into its memory. */
function wasmHistogram(k: WasmMoments, n: number, min: number, max: number, finite: number, withBaseline: boolean): Uint32Array {
  const width = max - min;
  if (!(width > 0)) {
    const bins = new Uint32Array(HISTOGRAM_BINS);
    bins[0] = finite;
    return bins;
  }
  const stride = Math.max(1, Math.ceil(n / HISTOGRAM_SAMPLE_LIMIT));
  const counts = new Int32Array(k.memory.buffer, WASM_COUNTS_AT, HISTOGRAM_BINS);
  counts.fill(0);
  k.bin(WASM_DATA_AT, withBaseline ? WASM_DATA_AT + n * 4 : 0, n, stride, min, max, HISTOGRAM_BINS / width, WASM_COUNTS_AT);
  return scaledBins(counts, stride, finite);
}

/** Fraction of units (positions after the batch dimension) that are zero in every example. */
export function deadUnitFraction(values: Float32Array, batch: number): number {
  if (batch <= 0 || values.length === 0) return 0;
  const units = values.length / batch;
  // The units zero in every row so far, row after row: a live unit drops out at its first
  // non-zero, so after a few rows only the (few) dead ones are still looked at. 1.25 ms a
  // step over lesson 13's activations became ≈ 0.2; at worst (all dead) one pass, as before.
  // Kept by a 0/1 step of the write position, not a branch: ReLU outputs mispredict it.
  const candidates = new Int32Array(units);
  for (let u = 0; u < units; u++) candidates[u] = u;
  let count = units;
  for (let b = 0; b < batch && count > 0; b++) {
    const row = b * units;
    let kept = 0;
    for (let k = 0; k < count; k++) {
      const u = candidates[k];
      candidates[kept] = u;
      kept += +(values[row + u] === 0);
    }
    count = kept;
  }
  return count / units;
}
