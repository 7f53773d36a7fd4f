import * as assert from 'node:assert/strict';
import { deadUnitFraction, HISTOGRAM_BINS, summarize } from '../../src/runner/capture/summarize';

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
