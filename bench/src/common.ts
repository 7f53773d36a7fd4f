// Small helpers shared by the benchmarks: statistics, the seed model, and the line a benchmark
// child process prints its result on (the orchestrator reads the last such line).
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';

/** The repository root (this bundle lives in out/bench/bin/, three levels down, like the webview tests' bundles). */
export const ROOT = path.resolve(__dirname, '../../..');

export const RESULT_PREFIX = 'BENCH_RESULT ';

export function emit(result: unknown): void {
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`);
}

export function log(text: string): void {
  process.stderr.write(`${text}\n`);
}

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function quantile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))];
}

export function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

export const round = (x: number, digits = 3): number => (Number.isFinite(x) ? Number(x.toFixed(digits)) : x);

/** The seed model of lesson 1: 784 → 256 relu → 128 relu → 10 softmax (235,146 parameters). */
export function seedModel(): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [784], units: 256, activation: 'relu' }),
      tf.layers.dense({ units: 128, activation: 'relu' }),
      tf.layers.dense({ units: 10, activation: 'softmax' }),
    ],
  });
}

/** Weighted parameters of the seed model's matMuls: Σ in·out. */
export const SEED_MATMUL_PARAMS = 784 * 256 + 256 * 128 + 128 * 10;
/** in·out of the layers that also need ∂L/∂input (all but the first). */
export const SEED_INPUT_GRAD_PARAMS = 256 * 128 + 128 * 10;

/**
 * FLOPs of one training step, counting 2·m·n·k per matMul: forward x·W, backward xᵀ·dZ for every
 * layer and dZ·Wᵀ for every layer but the first. Elementwise work is not counted.
 */
export function stepFlops(batch: number): number {
  return 2 * batch * (2 * SEED_MATMUL_PARAMS + SEED_INPUT_GRAD_PARAMS);
}

/** Times `fn` `reps` times after `warm` untimed calls; returns every time (ms). */
export function timeReps(fn: () => void, reps: number, warm = 3): number[] {
  for (let i = 0; i < warm; i++) fn();
  const out: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    out.push(performance.now() - t0);
  }
  return out;
}
