import * as assert from 'node:assert/strict';
import { layerHealth } from '../../src/shared/health';
import type { LayerInfo, TensorStats, TensorSummary } from '../../src/shared/traceTypes';

const layer: LayerInfo = {
  index: 0, name: 'dense', type: 'Dense', inputShape: [null, 4], outputShape: [null, 4], nativeBackward: true,
  params: [{ name: 'kernel', shape: [4, 4], count: 16, trainable: true }], paramCount: 16, paramFormula: '',
};

function stats(l2: number, extra: Partial<TensorStats> = {}): TensorStats {
  return { count: 16, mean: 0, std: 0, min: 0, max: 0, l2, zeroFraction: 0, nanCount: 0, infCount: 0, histogram: new Uint32Array(64), ...extra };
}

function step(weight: number, grad: number, delta: number, extra: TensorSummary[] = []): TensorSummary[] {
  return [
    { layer: 0, role: 'param', param: 'kernel', shape: [4, 4], stats: stats(weight) },
    { layer: 0, role: 'gradParam', param: 'kernel', shape: [4, 4], stats: stats(grad) },
    { layer: 0, role: 'delta', param: 'kernel', shape: [4, 4], stats: stats(delta) },
    ...extra,
  ];
}

describe('layer health', () => {
  it('a healthy layer has no flags', () => {
    assert.deepEqual(layerHealth(step(2, 0.1, 0.01), [layer])[0].flags, []);
  });
  it('an update that moves the weights by their own size is exploding, though the gradient ratio is modest', () => {
    assert.deepEqual(layerHealth(step(2, 1, 2.1), [layer])[0].flags, ['exploding-gradient']);
  });
  it('weights near zero make ratios meaningless: no flag', () => {
    assert.deepEqual(layerHealth(step(1e-4, 1, 0.1), [layer])[0].flags, []);
  });
  it('no gradient next to real weights is vanishing', () => {
    assert.deepEqual(layerHealth(step(2, 0, 0), [layer])[0].flags, ['vanishing-gradient']);
  });
  it('NaN anywhere in the layer is non-finite, and nothing else is judged', () => {
    const h = layerHealth(step(2, 1e9, 1e9, [{ layer: 0, role: 'activation', shape: [2, 4], stats: stats(1, { nanCount: 3 }) }]), [layer])[0];
    assert.deepEqual(h.flags, ['non-finite']);
  });
  it('mostly dead ReLUs are flagged', () => {
    const h = layerHealth(step(2, 0.1, 0.01, [{ layer: 0, role: 'activation', shape: [2, 4], stats: stats(1, { deadUnitFraction: 0.75 }) }]), [layer])[0];
    assert.deepEqual(h.flags, ['dead-units']);
  });
});
