// Checks a traced step's gradients against tfjs autodiff of the whole model (computed on the
// cpu backend, which has every gradient kernel).
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { phaseStops } from '../../../src/shared/phases';
import { resolveLoss } from '../../../src/runner/tracer/losses';
import type { LossName } from '../../../src/api/index';
import { captured, maxAbs, maxAbsDiff, runStep, tracerFor } from './tracerHarness';
import type { ModelTracer } from '../../../src/runner/tracer/sequentialTracer';

export interface Reference {
  grads: Float32Array[];
  loss: number;
}

/** ∂L/∂W for every trainable weight via tf.variableGrads, with the model's own (training) call. */
export function referenceGrads(model: tf.LayersModel, lossName: LossName, xs: tf.Tensor, ys: tf.Tensor): Reference {
  const loss = resolveLoss(lossName);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const { value, grads } = tf.variableGrads(() => loss.fn(ys, model.apply(xs, { training: true }) as tf.Tensor), vars);
  const out = { loss: value.dataSync()[0], grads: vars.map((v) => grads[v.name].dataSync() as Float32Array) };
  tf.dispose([value, ...Object.values(grads)]);
  return out;
}

export function randomBatch(shape: number[], classes: number, seed: number): { xs: tf.Tensor; ys: tf.Tensor } {
  const xs = tf.randomNormal(shape, 0, 1, 'float32', seed);
  const labels = tf.tensor1d(Array.from({ length: shape[0] }, (_, i) => (i * 7 + seed) % classes), 'int32');
  return { xs, ys: tf.oneHot(labels, classes).toFloat() };
}

/** Checks every captured ∂L/∂param against the reference, and ΔW = −lr·∂L/∂W for plain SGD. */
export function checkAgainstReference(
  model: tf.LayersModel,
  lossName: LossName,
  ref: Reference,
  xs: tf.Tensor,
  ys: tf.Tensor,
  lr: number,
  tol: number,
  makeTracer: (model: tf.LayersModel, loss: LossName, optimizer: tf.Optimizer) => ModelTracer = tracerFor,
): void {
  const tracer = makeTracer(model, lossName, tf.train.sgd(lr));
  const { stops, outcome } = runStep(tracer, xs, ys);
  // A functional model's input layer is no traced node.
  const layers = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
  assert.deepEqual(stops, phaseStops(layers.length), 'phases in step-through order');
  assert.ok(Math.abs(outcome.loss - ref.loss) < 1e-5, `loss ${outcome.loss} vs ${ref.loss}`);
  let k = 0;
  layers.forEach((layer, i) => {
    for (const w of layer.trainableWeights) {
      const name = w.name.split('/').pop()!.replace(/_\d+$/, '');
      const mine = captured(outcome, i, 'gradParam', name);
      const expected = ref.grads[k++];
      const scale = Math.max(1e-6, maxAbs(expected));
      assert.ok(maxAbsDiff(mine, expected) / scale < tol, `layer ${i} ${name}: max diff ${maxAbsDiff(mine, expected)} (scale ${scale})`);
      const delta = captured(outcome, i, 'delta', name);
      const applied = Float32Array.from(mine, (g) => -lr * g);
      assert.ok(maxAbsDiff(delta, applied) < 1e-6 + 1e-4 * lr * scale, `ΔW of layer ${i} ${name} is −lr·∂L/∂W`);
    }
  });
  assert.equal(k, ref.grads.length, 'every trainable weight has a traced gradient');
  outcome.scope.dispose();
}

/**
 * A functional model's reference: ∂L/∂W by weight name via tf.variableGrads of the sum of the
 * per-output losses (as tfjs's fit sums them), with the model's own (training) call.
 */
export function graphReferenceGrads(model: tf.LayersModel, lossNames: LossName[], xs: tf.Tensor[], ys: tf.Tensor[]): { loss: number; grads: Map<string, Float32Array> } {
  const losses = lossNames.map(resolveLoss);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const { value, grads } = tf.variableGrads(() => {
    const outs = model.apply(xs.length === 1 ? xs[0] : xs, { training: true });
    const list = Array.isArray(outs) ? outs : [outs as tf.Tensor];
    return tf.addN(list.map((p, k) => losses[k].fn(ys[k], p as tf.Tensor))) as tf.Scalar;
  }, vars);
  const out = { loss: value.dataSync()[0], grads: new Map(vars.map((v) => [v.name, grads[v.name].dataSync() as Float32Array])) };
  tf.dispose([value, ...Object.values(grads)]);
  return out;
}

/**
 * Checks a graph tracer's step against the reference: the loss, every parameter owner's
 * ∂L/∂W (a shared layer's summed over its calls) and its ΔW = −lr·∂L/∂W for plain SGD.
 */
export function checkGraphAgainstReference(
  tracer: ModelTracer,
  model: tf.LayersModel,
  ref: { loss: number; grads: Map<string, Float32Array> },
  xs: tf.Tensor[],
  ys: tf.Tensor[],
  lr: number,
  tol: number,
): void {
  const nodes = tracer.summary.layers;
  const { stops, outcome } = runStep(tracer, xs.length === 1 ? xs[0] : xs, ys.length === 1 ? ys[0] : ys);
  assert.deepEqual(stops, phaseStops(nodes.length), 'phases in step-through order, one per node');
  assert.ok(Math.abs(outcome.loss - ref.loss) < 1e-5, `loss ${outcome.loss} vs ${ref.loss}`);
  const checked = new Set<string>();
  nodes.forEach((node, i) => {
    if (node.sharesParamsWith !== undefined) return;
    const layer = model.getLayer(node.name.replace(/@\d+$/, ''));
    for (const w of layer.trainableWeights) {
      const name = w.name.split('/').pop()!.replace(/_\d+$/, '');
      const mine = captured(outcome, i, 'gradParam', name);
      const expected = ref.grads.get((w.read() as tf.Variable).name)!;
      const scale = Math.max(1e-6, maxAbs(expected));
      assert.ok(maxAbsDiff(mine, expected) / scale < tol, `node ${i} (${node.name}) ${name}: max diff ${maxAbsDiff(mine, expected)} (scale ${scale})`);
      const delta = captured(outcome, i, 'delta', name);
      assert.ok(maxAbsDiff(delta, Float32Array.from(mine, (g) => -lr * g)) < 1e-6 + 1e-4 * lr * scale, `ΔW of node ${i} ${name} is −lr·∂L/∂W`);
      checked.add((w.read() as tf.Variable).name);
    }
  });
  assert.equal(checked.size, ref.grads.size, 'every trainable weight has a traced gradient, once');
  outcome.scope.dispose();
}
