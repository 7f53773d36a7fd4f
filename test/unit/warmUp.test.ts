// The capture worker's warm-up runs the record path end to end on made-up values, for every kind
// of capture policy: a `false` here would mean the head start silently does nothing.
import * as assert from 'node:assert/strict';
import { warmUp } from '../../src/runner/capture/warmUp';
import type { CapturePolicy, LayerInfo } from '../../src/shared/traceTypes';

const policy: CapturePolicy = { summaries: true, sampleIndices: [0], keyframeEvery: 50, stepBudgetBytes: 1 << 20, keyframeBudgetBytes: 8 << 20 };
const dense: LayerInfo = {
  index: 0, name: 'dense_Dense1', type: 'Dense', activation: 'relu', inputShape: [null, 784], outputShape: [null, 256],
  params: [{ name: 'kernel', shape: [784, 256], count: 200_704, trainable: true }], paramCount: 200_704, paramFormula: '', nativeBackward: true,
};

describe('capture worker warm-up', () => {
  for (const [what, p, layers] of [
    ['the default policy, a model of one dense layer', policy, [dense]],
    ['no layers known', policy, []],
    ['summaries off, float16 keyframes', { ...policy, summaries: false, keyframePrecision: 'float16' }, [dense]],
    ['no selected examples, tiny budgets', { ...policy, sampleIndices: [], stepBudgetBytes: 1, keyframeBudgetBytes: 1 }, [dense]],
  ] as const) {
    it(`builds and encodes its record: ${what}`, () => {
      assert.equal(warmUp(p as CapturePolicy, layers as readonly LayerInfo[]), true);
    });
  }
});
