import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_CAPTURE, buildStepRecord, buildStepRecordInPlace, transferList } from '../../src/runner/capture/recordBuilder';
import { copyOut, finishedStep, viewOut } from '../../src/runner/capture/stepCopy';
import type { CopiedStep, CopiedTensor } from '../../src/shared/protocol';
import type { LayerInfo } from '../../src/shared/traceTypes';
import { summarize } from '../../src/runner/capture/summarize';
import { peekFloats } from '../../src/runner/tensorFloats';
import { TEST_BACKENDS, runStep, tracerFor, useBackend } from './helpers/tracerHarness';
import { keyframeBudgetFor } from '../../src/runner/runConfig';
import { missingFromKeyframe } from '../../src/shared/keyframeContents';

function finished(keyframe: boolean): CopiedStep {
  const after = Float32Array.from({ length: 12 }, (_, i) => i * 0.5);
  const before = Float32Array.from(after, (v, i) => v - (i % 3) * 0.25);
  return {
    step: 3,
    keyframe,
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
    const c = finished(false);
    const r = buildStepRecord(c, DEFAULT_CAPTURE);
    assert.deepEqual(r.summaries.map((s) => s.role), ['activation', 'param', 'delta']);
    const delta = c.captures[2];
    assert.deepEqual(r.summaries[2].stats, summarize(delta.values.map((v, i) => v - delta.baseline![i])));
    assert.deepEqual(r.tensors.map((t) => [t.role, t.scope, Array.from(t.values)]), [['activation', 'sample', [1, 0, 2]]]);
    assert.deepEqual(r.samples, [{ index: 0, target: [0, 1], prediction: [Math.fround(0.2), Math.fround(0.8)] }]);
  });

  it('a dead fraction only for the activations of layers whose units can be dead', () => {
    const dense = (activation: string): LayerInfo => ({ index: 0, name: 'd', type: 'Dense', activation, inputShape: [null, 3], outputShape: [null, 3], params: [], paramCount: 0, paramFormula: '', nativeBackward: true });
    const dead = (layers?: LayerInfo[]) => buildStepRecord(finished(false), DEFAULT_CAPTURE, layers).summaries[0].stats?.deadUnitFraction;
    // Columns 0 and 2 of [[1, 0, 2], [3, 0, 4]]: one of three units is zero for both examples.
    assert.equal(dead([dense('relu')]), 1 / 3);
    assert.equal(dead(undefined), 1 / 3, 'without the layers, every activation');
    assert.equal(dead([dense('sigmoid')]), undefined);
  });

  it('a keyframe: the whole batch, the weights, and ΔW as after − before', () => {
    const c = finished(true);
    const r = buildStepRecord(c, DEFAULT_CAPTURE);
    const byRole = Object.fromEntries(r.tensors.map((t) => [t.role, t]));
    assert.equal(byRole.activation.scope, 'batch');
    assert.deepEqual(Array.from(byRole.param.values), Array.from(c.captures[1].values));
    assert.deepEqual(Array.from(byRole.delta.values), Array.from({ length: 12 }, (_, i) => (i % 3) * 0.25));
  });

  for (const backend of TEST_BACKENDS) {
    describe(`from a real step's tensors, still on the ${backend} backend`, () => {
      before(() => useBackend(backend));

      it('copies each captured tensor out once, summarises the copies as a read-back would, and transfers only the copies', () => {
        tf.engine().startScope();
        try {
          const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [5], units: 4, activation: 'relu' }), tf.layers.dense({ units: 3, activation: 'softmax' })] });
          const tracer = tracerFor(model, 'categoricalCrossentropy');
          const xs = tf.randomNormal([6, 5], 0, 1, 'float32', 1);
          const ys = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2], 'int32'), 3);
          runStep(tracer, xs, ys).outcome.scope.dispose();
          const { outcome } = runStep(tracer, xs, ys);
          // Built here from views of the backend's memory (as the training thread does when the
          // worker is behind): the same record, its kept tensors copied out.
          const inPlace = buildStepRecordInPlace(viewOut(finishedStep(1, true, 6, outcome)), DEFAULT_CAPTURE);
          const copied = copyOut(finishedStep(1, true, 6, outcome));
          const captures = outcome.scope.captures;
          // Read while the tensors are still on the backend, for the checks below.
          const reads = captures.map((c) => Float32Array.from(c.tensor.dataSync()));
          const heap = peekFloats(captures[0].tensor).buffer;
          outcome.scope.dispose();
          // The copies outlive the step's tensors: the worker builds the record after the scope is gone.
          const record = { ...buildStepRecord(copied, DEFAULT_CAPTURE), stepMs: 0 };
          assert.deepEqual(inPlace, buildStepRecord(copied, DEFAULT_CAPTURE));
          for (const t of inPlace.tensors) assert.notEqual(t.values.buffer, heap, `${t.role}: kept as a copy, not a view`);
          assert.equal(record.summaries.length, captures.length);
          captures.forEach((c, i) => {
            const read = reads[i];
            const direct = c.baseline ? read.map((v, k) => v - c.baseline![k]) : read;
            assert.deepEqual(record.summaries[i].stats, summarize(direct, c.role === 'activation' ? c.shape : undefined), `${c.role}/${c.param ?? ''} of layer ${c.layer}`);
          });
          const delta = record.tensors.find((t) => t.role === 'delta' && t.layer === 0 && t.param === 'kernel')!;
          const deltaIndex = captures.findIndex((c) => c.role === 'delta' && c.layer === 0 && c.param === 'kernel');
          const deltaCapture = captures[deltaIndex];
          assert.deepEqual(Array.from(delta.values), Array.from(reads[deltaIndex], (v, k) => Math.fround(v - deltaCapture.baseline![k])));
          // A weight captured as itself and as ΔW's "after" is copied once; ΔW's baseline is copied
          // too (the optimizer reuses its array), so nothing the worker reads is shared with this thread.
          const paramIndex = captures.findIndex((c) => c.role === 'param' && c.layer === 0 && c.param === 'kernel');
          assert.equal(copied.captures[paramIndex].values, copied.captures[deltaIndex].values);
          assert.notEqual(copied.captures[deltaIndex].baseline, deltaCapture.baseline);
          // Every copy owns its whole buffer (so it may be transferred); the backend's memory is never in the list.
          const buffers = transferList(copied);
          const arrays = new Set(copied.captures.flatMap((c) => (c.baseline ? [c.values, c.baseline] : [c.values])));
          assert.equal(buffers.length, arrays.size);
          assert.ok(!buffers.includes(heap as ArrayBuffer), 'the backend memory is not transferred');
          for (const a of arrays) assert.ok(buffers.includes(a.buffer as ArrayBuffer), 'every copy is transferable');
        } finally {
          tf.engine().endScope();
        }
      });
    });
  }
  it('a keyframe of a 594,922-parameter model holds all its weights, gradients and updates', () => {
    // The mid-size conv net's parameter count in four kernels, and two batch activations of 3.1 MB
    // each: batches first, as keyframes were built before, left 2.1 MB of 8 MiB for the
    // parameters, and the largest kernel's 2.3 MB did not fit.
    const sizes = [896, 9248, 18496, 566282];
    assert.equal(sizes.reduce((a, b) => a + b), 594_922);
    const act = (layer: number) => ({ layer, role: 'activation' as const, shape: [128, 16, 16, 24], perExample: true, values: new Float32Array(128 * 16 * 16 * 24) });
    const captures: CopiedTensor[] = [act(0), act(1)];
    sizes.forEach((n, layer) => {
      for (const role of ['gradParam', 'param', 'delta'] as const) {
        captures.push({ layer, role, param: 'kernel', shape: [n], perExample: false, values: new Float32Array(n).fill(layer + 1), baseline: role === 'delta' ? new Float32Array(n) : undefined });
      }
    });
    const step = { ...finished(true), batchSize: 128, prediction: new Float32Array(128 * 2), target: new Float32Array(128 * 2), captures };
    const params = (r: ReturnType<typeof buildStepRecord>) => r.tensors.filter((t) => t.scope === 'full').length;

    const fixed = buildStepRecord(step, DEFAULT_CAPTURE);
    assert.equal(params(fixed), 12, 'at the old fixed 8 MiB the parameters come first and all fit');
    assert.deepEqual(missingFromKeyframe({ ...fixed, stepMs: 0 })?.map((s) => s.role), ['activation', 'activation']);

    const budget = keyframeBudgetFor(DEFAULT_CAPTURE, false, 594_922);
    assert.equal(budget, 594_922 * 24);
    const scaled = buildStepRecord(step, { ...DEFAULT_CAPTURE, keyframeBudgetBytes: budget });
    assert.equal(params(scaled), 12);
    assert.deepEqual(missingFromKeyframe({ ...scaled, stepMs: 0 }), [], 'the budget scaled to the model holds its batches too');

    assert.equal(keyframeBudgetFor(DEFAULT_CAPTURE, false, 1000), DEFAULT_CAPTURE.keyframeBudgetBytes, 'a small model keeps the default');
    assert.equal(keyframeBudgetFor({ ...DEFAULT_CAPTURE, keyframeBudgetBytes: 1024 }, true, 594_922), 1024, 'a budget the user set is kept');
  });
});
