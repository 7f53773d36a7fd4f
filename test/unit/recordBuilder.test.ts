import * as assert from 'node:assert/strict';
import { DEFAULT_CAPTURE, buildStepRecord, type StepCapture } from '../../src/runner/capture/recordBuilder';
import { summarize } from '../../src/runner/capture/summarize';

function capture(keyframe: boolean): StepCapture {
  const after = Float32Array.from({ length: 12 }, (_, i) => i * 0.5);
  const before = Float32Array.from(after, (v, i) => v - (i % 3) * 0.25);
  return {
    step: 3,
    keyframe,
    stepMs: 1,
    loss: 0.5,
    batchSize: 2,
    prediction: Float32Array.from([0.2, 0.8, 0.6, 0.4]),
    target: Float32Array.from([0, 1, 1, 0]),
    outputSize: 2,
    captures: [
      { layer: 0, role: 'activation', shape: [2, 3], perExample: true, values: Float32Array.from([1, 0, 2, 3, 0, 4]) },
      { layer: 0, role: 'param', param: 'kernel', shape: [3, 4], perExample: false, values: after },
      { layer: 0, role: 'delta', param: 'kernel', shape: [3, 4], perExample: false, values: after, baseline: before },
    ],
  };
}

describe('buildStepRecord', () => {
  it('an ordinary step: every summary, the selected example only, no weights', () => {
    const c = capture(false);
    const r = buildStepRecord(c, DEFAULT_CAPTURE);
    assert.deepEqual(r.summaries.map((s) => s.role), ['activation', 'param', 'delta']);
    assert.deepEqual(r.summaries[2].stats, summarize(c.captures[2].values.map((v, i) => v - c.captures[2].baseline![i])));
    assert.deepEqual(r.tensors.map((t) => [t.role, t.scope, Array.from(t.values)]), [['activation', 'sample', [1, 0, 2]]]);
    assert.deepEqual(r.samples, [{ index: 0, target: [0, 1], prediction: [Math.fround(0.2), Math.fround(0.8)] }]);
  });

  it('a keyframe: the whole batch, the weights, and ΔW as after − before', () => {
    const c = capture(true);
    const r = buildStepRecord(c, DEFAULT_CAPTURE);
    const byRole = Object.fromEntries(r.tensors.map((t) => [t.role, t]));
    assert.equal(byRole.activation.scope, 'batch');
    assert.deepEqual(Array.from(byRole.param.values), Array.from(c.captures[1].values));
    assert.deepEqual(Array.from(byRole.delta.values), Array.from({ length: 12 }, (_, i) => (i % 3) * 0.25));
  });
});
