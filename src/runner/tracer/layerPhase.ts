// What a layers-model tracer (a sequential stack or a functional graph) shares: the model's
// summary from its layers' descriptions, and running one layer's phase so that a failure in it
// is told at the user's line.
import * as tf from '@tensorflow/tfjs';
import type { LayerInfo, ModelSummary } from '../../shared/traceTypes';
import type { LayerLocations } from '../layerLocations';
import { LocatedError } from '../runError';
import { batchAccuracy, lossAndGradient, type Loss } from './losses';
import type { StepScope } from './stepScope';

export function layersModelSummary(name: string, inputShape: (number | null)[], layers: LayerInfo[]): ModelSummary {
  return {
    name,
    kind: 'layers',
    inputShape,
    layers,
    totalParams: layers.reduce((s, l) => s + l.paramCount, 0),
    trainableParams: layers.reduce((s, l) => s + l.params.filter((p) => p.trainable).reduce((n, p) => n + p.count, 0), 0),
  };
}

/**
 * Runs one layer's phase; a failure in it is told at the user's line: the frame in their code
 * (a custom layer's call) when there is one, else the line that built the layer.
 */
export function atLayer<T>(info: LayerInfo, phase: 'forward' | 'backward', locations: LayerLocations, run: () => T): T {
  try {
    return run();
  } catch (e) {
    if (e instanceof LocatedError) throw e;
    const err = e instanceof Error ? e : new Error(String(e));
    // Only frames above this one: the user's code that called the tracer is no culprit.
    const inUserCode = locations.locate(err.stack?.split(/\n\s*at [^\n]*\batLayer \(/)[0]);
    throw new LocatedError({
      kind: inUserCode ? 'user-exception' : 'internal',
      message: `Layer ${info.index} '${info.name}' (${info.type}), ${phase} pass: ${err.message}`,
      location: inUserCode ?? info.location,
      layer: info.index,
      layerName: info.name,
      stack: err.stack,
    });
  }
}

/**
 * The loss phase of a layers model: the loss and ∂L/∂prediction (kept for the backward pass), and
 * the batch's accuracy where the targets are classes; the scope learns the loss for a held step.
 */
export function lossPhase(loss: Loss, ys: tf.Tensor, prediction: tf.Tensor, scope: StepScope): { loss: number; accuracy?: number; grad: tf.Tensor } {
  const result = tf.tidy(() => {
    const { value, grad } = lossAndGradient(loss, ys, prediction);
    const acc = batchAccuracy(loss.name, ys, prediction);
    return { value: scope.keep(value), grad: scope.keep(grad), acc: acc && scope.keep(acc) };
  });
  const value = result.value.dataSync()[0];
  const accuracy = result.acc?.dataSync()[0];
  scope.lossPhase = { loss: value, accuracy, prediction };
  return { loss: value, accuracy, grad: result.grad };
}
