import * as assert from 'node:assert/strict';
import { LossTrend, layerHealth } from '../../src/shared/health';
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
    const h = layerHealth(step(2, 0.1, 0.01, [{ layer: 0, role: 'activation', shape: [2, 4], stats: stats(1, { deadUnitFraction: 0.75 }) }]), [{ ...layer, activation: 'relu' }])[0];
    assert.deepEqual(h.flags, ['dead-units']);
  });
  it('a pooling layer after dead ReLUs shows their zeros but is not flagged: the ReLU is', () => {
    const pool: LayerInfo = { ...layer, index: 1, type: 'GlobalAveragePooling2D', params: [], paramCount: 0 };
    const zeros = (l: number): TensorSummary => ({ layer: l, role: 'activation', shape: [2, 4], stats: stats(1, { deadUnitFraction: 0.75 }) });
    const [relu, pooled] = layerHealth([...step(2, 0.1, 0.01, [zeros(0)]), zeros(1)], [{ ...layer, activation: 'relu' }, pool]);
    assert.deepEqual([relu.flags, pooled.flags], [['dead-units'], []]);
    assert.equal(pooled.deadFraction, 0.75, 'its dead fraction is still reported');
  });
  it('a layer whose own activation cannot die (sigmoid, tanh, softmax, linear) reports no dead fraction', () => {
    const zeros: TensorSummary = { layer: 0, role: 'activation', shape: [2, 4], stats: stats(1, { deadUnitFraction: 0 }) };
    for (const activation of ['sigmoid', 'tanh', 'softmax', 'linear']) {
      assert.equal(layerHealth(step(2, 0.1, 0.01, [zeros]), [{ ...layer, activation }])[0].deadFraction, undefined, activation);
    }
    assert.equal(layerHealth(step(2, 0.1, 0.01, [zeros]), [{ ...layer, activation: 'relu' }])[0].deadFraction, 0);
  });
  it('a large update while the loss falls is no alarm (Adam’s first steps); the same while it does not fall is', () => {
    // An Adam step of lr 0.02 on an embedding table initialised within ±0.05: ‖ΔW‖/‖W‖ ≈ 0.5.
    const adamFirstStep = step(2, 0.1, 1.1);
    const falling = layerHealth(adamFirstStep, [layer], { lossFalling: true })[0];
    assert.deepEqual(falling.flags, []);
    assert.ok(falling.updateToWeight! > 0.5, 'the ratio is still reported');
    assert.deepEqual(layerHealth(adamFirstStep, [layer], { lossFalling: false })[0].flags, ['exploding-gradient']);
    assert.deepEqual(layerHealth(step(2, 30, 0.1), [layer], { lossFalling: false })[0].flags, ['exploding-gradient'], 'a gradient 15× the weights');
  });
});

describe('the loss trend health is judged with', () => {
  it('a loss below the mean of the last five is falling; the first step is given the benefit of the doubt', () => {
    const trend = new LossTrend();
    const falling = [10, 8, 9, 6, 7, 5, 12, 4, 4, 4, 4, 4, 4, NaN].map((loss) => trend.observe(loss).lossFalling);
    // 9 is not below mean(10, 8); 7 is below mean(10, 8, 9, 6); 12 is above the mean of the five
    // before it (8, 9, 6, 7, 5); a loss flat for five steps has stopped falling; NaN never falls.
    assert.deepEqual(falling, [true, true, false, true, true, true, false, true, true, true, true, true, false, false]);
  });
});
