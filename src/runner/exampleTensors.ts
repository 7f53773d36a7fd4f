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

/**
 * model.fit's (fitDataset's) xs or ys as the tracer takes them: one tensor, or one per model
 * input (output) in the model's order, from an array or an object keyed by input (output) name,
 * as stock fit standardizes them. `call` names the API in the messages.
 */
export function modelTensors(value: unknown, names: string[], what: 'xs' | 'ys', call: string, fail: (message: string) => LocatedError): Tensors {
  const kind = what === 'xs' ? 'input' : 'output';
  let list: unknown[];
  if (value instanceof tf.Tensor) list = [value];
  else if (Array.isArray(value)) list = value;
  else if (typeof value === 'object' && value !== null) {
    const byName = value as Record<string, unknown>;
    const unknown = Object.keys(byName).filter((k) => !names.includes(k));
    if (unknown.length > 0) throw fail(`${call}: ${what} names ${unknown.map((k) => `'${k}'`).join(', ')}, but the model's ${kind}s are ${names.join(', ')}.`);
    const missing = names.filter((n) => !(n in byName));
    if (missing.length > 0) throw fail(`${call}: ${what} has no tensor for ${kind} ${missing.map((k) => `'${k}'`).join(', ')}.`);
    list = names.map((n) => byName[n]);
  } else {
    throw fail(`${call}: ${what} must be a tf.Tensor, an array of them, or an object of them keyed by ${kind} name.`);
  }
  if (!isTensors(list)) throw fail(`${call}: every entry of ${what} must be a tf.Tensor.`);
  if (list.length !== names.length) {
    throw fail(`${call}: the model has ${names.length} ${kind}${names.length === 1 ? '' : 's'} (${names.join(', ')}), but ${what} holds ${list.length} tensor${list.length === 1 ? '' : 's'}.`);
  }
  return list.length === 1 ? list[0] : list;
}
