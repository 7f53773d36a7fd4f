import type * as tf from '@tensorflow/tfjs';
import type { LayerInfo, ParamInfo, SourceLocation } from '../../shared/traceTypes';
import type { ParamHandle } from './traceableLayer';

const WORDS: Record<string, [string, string]> = {
  kernel: ['weight', 'weights'],
  recurrent_kernel: ['recurrent weight', 'recurrent weights'],
  bias: ['bias', 'biases'],
  gamma: ['γ (scale)', 'γ (scale)'],
  beta: ['β (shift)', 'β (shift)'],
  moving_mean: ['running mean', 'running means'],
  moving_variance: ['running variance', 'running variances'],
  embeddings: ['embedding', 'embeddings'],
};

/** 235,146: grouped by hand, since the first toLocaleString in a process loads ICU (12–18 ms of the runner's cold start). */
export function formatCount(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** "784 × 256 weights + 256 biases = 200,960" */
export function paramFormula(params: ParamInfo[]): string {
  if (params.length === 0) return 'no parameters';
  const parts = params.map((p) => {
    const [one, many] = WORDS[p.name] ?? [p.name, p.name];
    const dims = p.shape.length === 0 ? '1' : p.shape.join(' × ');
    return `${dims} ${p.count === 1 ? one : many}`;
  });
  const total = params.reduce((s, p) => s + p.count, 0);
  const trainable = params.filter((p) => p.trainable).reduce((s, p) => s + p.count, 0);
  const suffix = trainable !== total ? ` (${formatCount(trainable)} trainable)` : '';
  return `${parts.join(' + ')} = ${formatCount(total)}${suffix}`;
}

/** The short name of a weight: "dense_Dense1/kernel" → "kernel". */
export function paramName(weight: { name: string }): string {
  const last = weight.name.split('/').pop() ?? weight.name;
  return last.replace(/_\d+$/, '');
}

export function paramHandles(layer: tf.layers.Layer): ParamHandle[] {
  const trainable = new Set(layer.trainableWeights);
  return layer.weights.map((w) => ({
    name: paramName(w),
    variable: w.read() as tf.Variable,
    trainable: trainable.has(w),
  }));
}

function shapeOf(shape: unknown): (number | null)[] {
  const s = Array.isArray(shape) && Array.isArray(shape[0]) ? shape[0] : shape;
  return Array.isArray(s) ? (s as (number | null)[]) : [];
}

/** A built layer's input shape (tfjs exposes it through the layer's symbolic input). */
function inputShapeOf(layer: tf.layers.Layer): (number | null)[] {
  try {
    const input = layer.input as unknown as { shape: (number | null)[] } | { shape: (number | null)[] }[];
    return shapeOf(Array.isArray(input) ? input[0].shape : input.shape);
  } catch {
    return [];
  }
}

/** The layer's class name; a user's class that names none (no static className) by its JS name. */
export function layerType(layer: tf.layers.Layer): string {
  let name: unknown;
  try {
    name = layer.getClassName();
  } catch {
    name = undefined;
  }
  return typeof name === 'string' && name.length > 0 ? name : layer.constructor.name;
}

export function describeLayer(
  layer: tf.layers.Layer,
  index: number,
  params: ParamHandle[],
  location: SourceLocation | undefined,
  nativeBackward: boolean,
): LayerInfo {
  const paramInfos: ParamInfo[] = params.map((p) => ({
    name: p.name,
    shape: p.variable.shape,
    count: p.variable.size,
    trainable: p.trainable,
  }));
  const act = (layer as unknown as { activation?: { getClassName?: unknown } }).activation;
  const actName = typeof act?.getClassName === 'function' ? String((act.getClassName as () => unknown).call(act)) : undefined;
  return {
    index,
    name: layer.name,
    type: layerType(layer),
    inputShape: inputShapeOf(layer),
    outputShape: shapeOf(layer.outputShape),
    activation: actName?.toLowerCase(),
    params: paramInfos,
    paramCount: paramInfos.reduce((s, p) => s + p.count, 0),
    paramFormula: paramFormula(paramInfos),
    location,
    nativeBackward,
  };
}
