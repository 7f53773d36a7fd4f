// Inputs and targets as model.fit takes them: one tensor, or one per model input (output). The
// data path (batching, held-out chunks, the step's borrowed tensors) works on either through
// these few functions, example by example along the first dimension.
import * as tf from '@tensorflow/tfjs';
import type { Tensors } from '../api/index';
import { LocatedError } from './runError';

export function tensorList(t: Tensors): tf.Tensor[] {
  return Array.isArray(t) ? t : [t];
}

/** True for a tensor or a non-empty array of tensors. */
export function isTensors(v: unknown): v is Tensors {
  return v instanceof tf.Tensor || (Array.isArray(v) && v.length > 0 && v.every((t) => t instanceof tf.Tensor));
}

/** Examples in a batch (the first tensor's first dimension; the tensors are checked to agree). */
export function exampleCount(t: Tensors): number {
  return tensorList(t)[0].shape[0];
}

/** The example counts of every tensor, for a message when they disagree. */
export function exampleCounts(t: Tensors): number[] {
  return tensorList(t).map((x) => x.shape[0]);
}

function mapTensors(t: Tensors, f: (x: tf.Tensor) => tf.Tensor): Tensors {
  return Array.isArray(t) ? t.map(f) : f(t);
}

export function sliceExamples(t: Tensors, start: number, size: number): Tensors {
  return mapTensors(t, (x) => tf.slice(x, start, size));
}

export function gatherExamples(t: Tensors, indices: tf.Tensor1D): Tensors {
  return mapTensors(t, (x) => tf.gather(x, indices));
}

/** The one tensor a single-input (single-output) model takes; several are a contract error. */
export function oneTensor(t: Tensors, what: 'inputs' | 'targets'): tf.Tensor {
  if (!Array.isArray(t)) return t;
  if (t.length === 1) return t[0];
  throw new LocatedError({ kind: 'contract', message: `This model has one ${what === 'inputs' ? 'input' : 'output'}, but the data gives ${t.length} ${what} tensors.` });
}
