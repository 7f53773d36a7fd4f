// summarize() in a fresh process (a clean JIT), with each moments kernel (WebAssembly SIMD, the
// default; and the JS one): on plain values while it has seen nothing else, with a baseline
// (ΔW = after − before, as the capture worker calls it), and on plain values again after that.
// The capture worker makes both kinds of call every step.
import { summarize, useMomentsKernel } from '../../src/runner/capture/summarize';
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
  const probe = () => ({
    plainFirstMs: time(() => summarize(values)),
    withBaselineMs: time(() => summarize(values, undefined, baseline)),
    plainAfterBaselineMs: time(() => summarize(values)),
  });
  const wasm = useMomentsKernel('wasm') === 'wasm' ? probe() : null;
  useMomentsKernel('js');
  const js = probe();
  emit({ values: n, ...(wasm ?? js), kernel: wasm ? 'wasm' : 'js', js });
}
