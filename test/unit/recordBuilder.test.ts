import * as assert from 'node:assert/strict';
import { DEFAULT_CAPTURE, buildStepRecord, type StepCapture } from '../../src/runner/capture/recordBuilder';
import { summarize } from '../../src/runner/capture/summarize';
import { keyframeBudgetFor } from '../../src/runner/runConfig';
import { missingFromKeyframe } from '../../src/shared/keyframeContents';

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

  it('a keyframe of a 594,922-parameter model holds all its weights, gradients and updates', () => {
    // The mid-size conv net's parameter count in four kernels, and two batch activations of 3.1 MB
    // each: batches first, as keyframes were built before, left 2.1 MB of 8 MiB for the
    // parameters, and the largest kernel's 2.3 MB did not fit.
    const sizes = [896, 9248, 18496, 566282];
    assert.equal(sizes.reduce((a, b) => a + b), 594_922);
    const act = (layer: number) => ({ layer, role: 'activation' as const, shape: [128, 16, 16, 24], perExample: true, values: new Float32Array(128 * 16 * 16 * 24) });
    const captures: StepCapture['captures'] = [act(0), act(1)];
    sizes.forEach((n, layer) => {
      for (const role of ['gradParam', 'param', 'delta'] as const) {
        captures.push({ layer, role, param: 'kernel', shape: [n], perExample: false, values: new Float32Array(n).fill(layer + 1), baseline: role === 'delta' ? new Float32Array(n) : undefined });
      }
    });
    const step = { ...capture(true), batchSize: 128, prediction: new Float32Array(128 * 2), target: new Float32Array(128 * 2), captures };
    const params = (r: ReturnType<typeof buildStepRecord>) => r.tensors.filter((t) => t.scope === 'full').length;

    const fixed = buildStepRecord(step, DEFAULT_CAPTURE);
    assert.equal(params(fixed), 12, 'at the old fixed 8 MiB the parameters come first and all fit');
    assert.deepEqual(missingFromKeyframe(fixed)?.map((s) => s.role), ['activation', 'activation']);

    const budget = keyframeBudgetFor(DEFAULT_CAPTURE, false, 594_922);
    assert.equal(budget, 594_922 * 24);
    const scaled = buildStepRecord(step, { ...DEFAULT_CAPTURE, keyframeBudgetBytes: budget });
    assert.equal(params(scaled), 12);
    assert.deepEqual(missingFromKeyframe(scaled), [], 'the budget scaled to the model holds its batches too');

    assert.equal(keyframeBudgetFor(DEFAULT_CAPTURE, false, 1000), DEFAULT_CAPTURE.keyframeBudgetBytes, 'a small model keeps the default');
    assert.equal(keyframeBudgetFor({ ...DEFAULT_CAPTURE, keyframeBudgetBytes: 1024 }, true, 594_922), 1024, 'a budget the user set is kept');
  });
});
