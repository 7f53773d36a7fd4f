// The module a user's model file imports as 'gradient-lens'. At run time the runner resolves
// that import to this very module inside its own process, so `defineTraining` hands the spec
// straight to the tracer, and the tensors it names come from the runner's single tfjs.

import type * as tf from '@tensorflow/tfjs';
import type { CapturePolicy } from '../shared/traceTypes';

/**
 * Inputs or targets: one tensor, or for a functional model with several inputs (outputs) one
 * tensor per input (output), in the model's order, as model.fit takes them.
 */
export type Tensors = tf.Tensor | tf.Tensor[];

/** A split of a data set: inputs and targets, first dimension = examples (`Split<Tensors>`: one tensor or several each). */
export interface Split<T extends Tensors = tf.Tensor> {
  xs: T;
  ys: T;
}

/** Either in-memory splits the tracer batches (shuffled with the run's seed), or a batch source. */
export type DataSpec =
  | { train: Split<Tensors>; test?: Split<Tensors> }
  | { nextBatch(step: number, batchSize: number): Split<Tensors>; test?: Split<Tensors> };

export type LossName =
  | 'categoricalCrossentropy'
  | 'sparseCategoricalCrossentropy'
  | 'binaryCrossentropy'
  | 'meanSquaredError'
  | 'meanAbsoluteError'
  | 'hinge'
  /** mean(max(0, −y·ŷ)) with y ∈ {−1, 1}: plain SGD on it is the perceptron learning rule. */
  | 'perceptron';

export type LossFn = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Scalar;

/** A hand-written stage marker: returns `value` unchanged, and the tracer records it as a layer. */
export type Tap = (name: string, value: tf.Tensor, options?: TapOptions) => tf.Tensor;

export interface TapOptions {
  /** Variables this stage uses: their gradients and updates are shown with this stage. */
  params?: Record<string, tf.Variable>;
  /** 'preactivation' for a weighted sum, 'activation' (the default) for a stage's output. */
  role?: 'preactivation' | 'activation';
}

/** A model written from raw tf ops: variables and a forward function that taps its stages. */
export interface TappedModel {
  kind: 'tapped';
  name: string;
  /** Shape of one example, without the batch dimension. */
  inputShape: number[];
  forward(x: tf.Tensor, tap: Tap): tf.Tensor;
}

export interface TrainingSpec {
  /** Shown in the panel and the trace folder's name. */
  name?: string;
  model: tf.LayersModel | TappedModel;
  data: DataSpec;
  /**
   * The loss; for a model with several outputs, one for all of them or one per output (an array
   * in the model's output order, or an object keyed by output name), summed as tfjs sums them.
   */
  loss: LossName | LossFn | (LossName | LossFn)[] | Record<string, LossName | LossFn>;
  /** A tfjs optimizer, e.g. tf.train.sgd(0.1). */
  optimizer: tf.Optimizer;
  batchSize?: number;
  steps?: number;
  /** Seeds weight initialisation, shuffling and dropout: the same file and seed give the same trace. */
  seed?: number;
  /** Evaluate on `data.test` every this many steps (default: 10% of the steps; 0 never). */
  evalEvery?: number;
  /** Names of the classes, for targets that are one-hot labels. */
  classNames?: string[];
  capture?: Partial<CapturePolicy>;
}

const registry: { spec?: TrainingSpec } = {};

/**
 * Declares what to train and how: the tracer takes it from here. Export the result as the
 * file's default export (`export default defineTraining({...})`).
 */
export function defineTraining(spec: TrainingSpec): TrainingSpec {
  registry.spec = spec;
  return spec;
}

/** Declares a model written from raw tf ops; `forward` marks its stages with `tap`. */
export function tappedModel(model: Omit<TappedModel, 'kind'>): TappedModel {
  return { kind: 'tapped', ...model };
}

export function isTappedModel(model: unknown): model is TappedModel {
  return typeof model === 'object' && model !== null && (model as TappedModel).kind === 'tapped';
}

/** The spec the user's file registered, for the runner. Clears it so a reload starts clean. */
export function takeRegisteredSpec(): TrainingSpec | undefined {
  const spec = registry.spec;
  registry.spec = undefined;
  return spec;
}
