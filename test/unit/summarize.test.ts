import * as assert from 'node:assert/strict';
import { deadUnitFraction, HISTOGRAM_SAMPLE_LIMIT, summarize, useMomentsKernel } from '../../src/runner/capture/summarize';
import { HISTOGRAM_BINS } from '../../src/shared/traceTypes';

describe('tensor summaries', () => {
  it('match a direct computation', () => {
    const values = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i) * (i % 7 === 0 ? 0 : 3));
    const s = summarize(values);
    const list = Array.from(values);
    const mean = list.reduce((a, b) => a + b, 0) / list.length;
    const std = Math.sqrt(list.reduce((a, b) => a + (b - mean) ** 2, 0) / list.length);
    assert.ok(Math.abs(s.mean - mean) < 1e-9);
    assert.ok(Math.abs(s.std - std) < 1e-6);
    assert.equal(s.min, Math.min(...list));
    assert.equal(s.max, Math.max(...list));
    assert.ok(Math.abs(s.l2 - Math.sqrt(list.reduce((a, b) => a + b * b, 0))) < 1e-6);
    assert.equal(s.zeroFraction, list.filter((v) => v === 0).length / list.length);
    assert.equal(s.histogram.length, HISTOGRAM_BINS);
    assert.equal(s.histogram.reduce((a, b) => a + b, 0), 1000, 'every finite value lands in a bin');
    // The maximum lands in the last bin, the minimum in the first.
    assert.ok(s.histogram[0] > 0 && s.histogram[HISTOGRAM_BINS - 1] > 0);
  });

  it('counts NaN and Inf apart and keeps them out of the moments', () => {
    const s = summarize(Float32Array.from([1, NaN, 3, Infinity, -Infinity, NaN]));
    assert.equal(s.nanCount, 2);
    assert.equal(s.infCount, 2);
    assert.equal(s.mean, 2);
    assert.equal(s.min, 1);
    assert.equal(s.max, 3);
    assert.equal(s.histogram.reduce((a, b) => a + b, 0), 2);
  });

  it('puts a constant tensor in one bin', () => {
    const s = summarize(new Float32Array(10).fill(0.5));
    assert.equal(s.std, 0);
    assert.equal(s.histogram[0], 10);
  });

  it('summarises a difference (ΔW) without materialising it, exactly as the difference itself', () => {
    const after = Float32Array.from({ length: 5000 }, (_, i) => Math.sin(i) * 0.1);
    const before = Float32Array.from({ length: 5000 }, (_, i) => Math.sin(i) * 0.1 - (i % 3) * 1e-3);
    const delta = after.map((v, i) => v - before[i]);
    const a = summarize(after, undefined, before);
    const b = summarize(delta);
    assert.deepEqual({ ...a, histogram: Array.from(a.histogram) }, { ...b, histogram: Array.from(b.histogram) });
  });

  it('large tensors: exact moments, a histogram from an even sample that still adds up', () => {
    const values = Float32Array.from({ length: 300_000 }, (_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
    const s = summarize(values);
    assert.equal(s.count, 300_000);
    assert.equal(s.histogram.reduce((x, y) => x + y, 0), 300_000);
    // Against the exact histogram: every bin within sampling error (~3% here; 15% is 4.5σ).
    const exact = new Array(64).fill(0);
    for (const v of values) exact[Math.min(63, Math.floor(((v - s.min) / (s.max - s.min)) * 64))]++;
    s.histogram.forEach((bin, b) => assert.ok(Math.abs(bin - exact[b]) <= exact[b] * 0.15, `bin ${b}: ${bin} vs ${exact[b]}`));
    const mean = values.reduce((x, y) => x + y, 0) / values.length;
    assert.ok(Math.abs(s.mean - mean) < 1e-9);
  });

  it('finds units that are zero for the whole batch', () => {
    // batch 3 × 4 units; unit 1 and 3 are zero in every example.
    const a = Float32Array.from([1, 0, 2, 0, 0, 0, 5, 0, 3, 0, 0, 0]);
    assert.equal(deadUnitFraction(a, 3), 0.5);
    assert.equal(summarize(a, [3, 4]).deadUnitFraction, 0.5);
  });
});

// The blocked, two-accumulator kernels against the plainest possible computation, over every
// branch: below and above one block (4,096) and the histogram's sample limit, odd lengths (the
// unpaired last value, and n mod 4 for the SIMD one), with and without a baseline, NaN/±Inf,
// all zeros, empty — once with each moments kernel.
for (const kernel of ['wasm', 'js'] as const) describe(`tensor summaries: the ${kernel} kernel against a direct computation`, () => {
  before(() => assert.equal(useMomentsKernel(kernel), kernel, `the ${kernel} kernel loads here`));
  after(() => useMomentsKernel('wasm'));

  let seed = 7;
  const rand = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32) - 0.5;

  function direct(values: Float32Array, baseline?: Float32Array) {
    const list = Array.from(values, (v, i) => (baseline ? Math.fround(v - baseline[i]) : v));
    const finite = list.filter((v) => Number.isFinite(v));
    const sum = finite.reduce((a, b) => a + b, 0);
    const mean = finite.length ? sum / finite.length : 0;
    const min = finite.length ? finite.reduce((a, b) => Math.min(a, b)) : 0;
    const max = finite.length ? finite.reduce((a, b) => Math.max(a, b)) : 0;
    const std = finite.length ? Math.sqrt(finite.reduce((a, b) => a + (b - mean) ** 2, 0) / finite.length) : 0;
    const bins = new Array<number>(HISTOGRAM_BINS).fill(0);
    if (max > min) for (const v of finite) bins[Math.min(HISTOGRAM_BINS - 1, Math.floor(((v - min) / (max - min)) * HISTOGRAM_BINS))]++;
    else bins[0] = finite.length;
    return {
      count: list.length,
      mean,
      std,
      min,
      max,
      l2: Math.sqrt(finite.reduce((a, b) => a + b * b, 0)),
      zeros: list.filter((v) => v === 0).length,
      nan: list.filter((v) => Number.isNaN(v)).length,
      inf: list.filter((v) => v === Infinity || v === -Infinity).length,
      bins,
    };
  }

  function check(label: string, values: Float32Array, baseline?: Float32Array): void {
    const s = summarize(values, undefined, baseline);
    const d = direct(values, baseline);
    const close = (got: number, want: number, what: string) =>
      assert.ok(Math.abs(got - want) <= 1e-9 * Math.max(1, Math.abs(want)), `${label}: ${what} ${got} vs ${want}`);
    assert.equal(s.count, d.count, `${label}: count`);
    close(s.mean, d.mean, 'mean');
    assert.ok(Math.abs(s.std - d.std) <= 1e-6 * Math.max(1, d.std), `${label}: std ${s.std} vs ${d.std}`);
    assert.equal(s.min, d.min, `${label}: min`);
    assert.equal(s.max, d.max, `${label}: max`);
    close(s.l2, d.l2, 'l2');
    assert.equal(s.zeroFraction, d.count ? d.zeros / d.count : 0, `${label}: zeroFraction`);
    assert.equal(s.nanCount, d.nan, `${label}: nanCount`);
    assert.equal(s.infCount, d.inf, `${label}: infCount`);
    assert.equal(s.histogram.reduce((a, b) => a + b, 0), d.count - d.nan - d.inf, `${label}: the bins add up to the finite count`);
    if (values.length <= HISTOGRAM_SAMPLE_LIMIT) assert.deepEqual(Array.from(s.histogram), d.bins, `${label}: every value binned`);
    else s.histogram.forEach((bin, b) => assert.ok(Math.abs(bin - d.bins[b]) <= Math.max(60, d.bins[b] * 0.15), `${label}: bin ${b}: ${bin} vs ${d.bins[b]}`));
  }

  const sizes = [1, 2, 3, 5, 7, 4095, 4096, 4097, 65_537, 235_147];
  for (const n of sizes) {
    it(`${n.toLocaleString('en-US')} values, plain and as a difference from a baseline`, () => {
      const values = Float32Array.from({ length: n }, () => (rand() < -0.3 ? 0 : rand()));
      const baseline = Float32Array.from(values, (v, i) => (i % 5 === 0 ? v : v - rand() * 1e-3));
      check('plain', values);
      check('difference', values, baseline);
      // The same difference materialised gives the same summary, bit for bit.
      const a = summarize(values, undefined, baseline);
      const b = summarize(values.map((v, i) => v - baseline[i]));
      assert.deepEqual({ ...a, histogram: Array.from(a.histogram) }, { ...b, histogram: Array.from(b.histogram) });
    });
  }

  it('NaN and ±Inf, small and large, plain and in a difference', () => {
    for (const n of [9, 5000, 100_001]) {
      const values = Float32Array.from({ length: n }, () => rand());
      values[n >> 1] = NaN;
      values[n - 1] = Infinity;
      values[0] = -Infinity;
      check(`plain ${n}`, values);
      const baseline = Float32Array.from({ length: n }, () => rand());
      baseline[3] = Infinity; // finite − Inf = −Inf
      baseline[n >> 2] = NaN;
      check(`difference ${n}`, values, baseline);
      const s = summarize(values, undefined, baseline);
      assert.ok(s.nanCount >= 2 && s.infCount >= 3);
    }
  });

  it('a difference of infinities of the same sign is NaN', () => {
    const s = summarize(Float32Array.from([Infinity, 1, 2]), undefined, Float32Array.from([Infinity, 0, 0]));
    assert.equal(s.nanCount, 1);
    assert.equal(s.infCount, 0);
    assert.equal(s.mean, 1.5);
  });

  it('all zeros, all NaN, and empty', () => {
    for (const n of [1, 4097, 100_000]) {
      const zeros = new Float32Array(n);
      const s = summarize(zeros);
      assert.deepEqual([s.mean, s.std, s.min, s.max, s.l2, s.zeroFraction, s.histogram[0]], [0, 0, 0, 0, 0, 1, n]);
      const same = summarize(zeros, undefined, new Float32Array(n));
      assert.deepEqual([same.zeroFraction, same.histogram[0]], [1, n]);
      const nan = summarize(new Float32Array(n).fill(NaN));
      assert.deepEqual([nan.nanCount, nan.mean, nan.min, nan.max, nan.histogram.reduce((a, b) => a + b, 0)], [n, 0, 0, 0, 0]);
    }
    const empty = summarize(new Float32Array(0), [0, 4]);
    assert.deepEqual([empty.count, empty.mean, empty.std, empty.min, empty.max, empty.zeroFraction, empty.deadUnitFraction], [0, 0, 0, 0, 0, 0, 0]);
    assert.equal(summarize(new Float32Array(0), undefined, new Float32Array(0)).count, 0);
  });

  it('dead units against a per-unit check', () => {
    const [batch, units] = [64, 300];
    const values = Float32Array.from({ length: batch * units }, (_, i) => (i % units) % 3 === 0 ? 0 : Math.max(0, rand()));
    let dead = 0;
    for (let u = 0; u < units; u++) {
      let alive = false;
      for (let b = 0; b < batch; b++) alive ||= values[b * units + u] !== 0;
      if (!alive) dead++;
    }
    assert.ok(dead >= 100);
    assert.equal(deadUnitFraction(values, batch), dead / units);
  });

  it('samples a large histogram from every part of the tensor, not with a fixed period', () => {
    // One non-zero column in a 256-wide matrix: a sample with period 16 or 256 would hit it always or never.
    const [rows, cols] = [1024, 256];
    const values = Float32Array.from({ length: rows * cols }, (_, i) => (i % cols === 5 ? 1 : 0));
    const s = summarize(values);
    const ones = s.histogram[HISTOGRAM_BINS - 1];
    assert.ok(Math.abs(ones - rows) <= rows * 0.25, `the column's share: ${ones} of ${rows}`);
  });
});

describe('tensor summaries: the wasm and JS kernels agree', () => {
  after(() => useMomentsKernel('wasm'));
  it('the same histogram (the same sample) and range, and the moments to rounding, at every size', () => {
    let seed = 11;
    const rand = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32) - 0.5;
    for (const n of [3, 4096, 65_536, 65_537, 235_146, 300_001]) {
      const values = Float32Array.from({ length: n }, () => (rand() < -0.3 ? 0 : rand()));
      const baseline = Float32Array.from(values, (v) => v - rand() * 1e-3);
      for (const b of [undefined, baseline]) {
        useMomentsKernel('wasm');
        const w = summarize(values, undefined, b);
        useMomentsKernel('js');
        const j = summarize(values, undefined, b);
        const label = `${n} values${b ? ', with a baseline' : ''}`;
        assert.deepEqual(Array.from(w.histogram), Array.from(j.histogram), label);
        assert.deepEqual([w.min, w.max, w.zeroFraction, w.count], [j.min, j.max, j.zeroFraction, j.count], label);
        assert.ok(Math.abs(w.mean - j.mean) <= 1e-12 && Math.abs(w.l2 - j.l2) <= 1e-9 * j.l2, label);
      }
    }
  });
});
