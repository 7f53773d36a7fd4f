// summarize() in a fresh process (a clean JIT): on plain values while it has seen nothing else,
// with a baseline (ΔW = after − before, as the capture worker calls it), and on plain values
// again after that. The capture worker makes both kinds of call every step.
import { summarize } from '../../src/runner/capture/summarize';
import { emit, median, round } from './common';

export async function summarizeProbeMain(): Promise<void> {
  const n = 235_146;
  let seed = 12345;
  const rand = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32) - 0.5;
  const values = new Float32Array(n).map(rand);
  const baseline = new Float32Array(n).map(rand);
  const time = (f: () => void, reps = 40): number => {
    for (let i = 0; i < 5; i++) f();
    const t: number[] = [];
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      f();
      t.push(performance.now() - t0);
    }
    return round(median(t));
  };
  const call = summarize as unknown as (v: Float32Array, shape?: number[], baseline?: Float32Array) => unknown;
  const plainFirst = time(() => call(values));
  const withBaseline = call.length >= 3 ? time(() => call(values, undefined, baseline)) : null;
  const plainAfter = time(() => call(values));
  emit({ values: n, plainFirstMs: plainFirst, withBaselineMs: withBaseline, plainAfterBaselineMs: plainAfter });
}
