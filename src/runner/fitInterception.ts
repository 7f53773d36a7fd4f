// A plain tfjs script — compile, then model.fit(xs, ys, { epochs, batchSize, … }) or
// model.fitDataset(dataset, { epochs, … }) — is traced too: while the user's file runs, fit
// declares the training to the tracer instead of running it, with stock tfjs's semantics
// (validation split or data, partial batches, shuffle, callbacks), which it hands over as a
// FitPlan (see fitCallbacks.ts).
import * as tf from '@tensorflow/tfjs';
import { defineTraining, type LossName, type Split, type TrainingSpec } from '../api/index';
import type { SourceLocation } from '../shared/traceTypes';
import { LocatedError } from './runError';
import { stepsPerEpoch } from './batches';
import type { LayerLocations } from './layerLocations';
import { DatasetFeed, isDataset, type BatchDataset } from './datasetFeed';

type Fit = tf.LayersModel['fit'];
type FitDataset = tf.LayersModel['fitDataset'];
type FitArgs = tf.ModelFitArgs;
type FitDatasetArgs = Parameters<FitDataset>[1];

/** What model.fit asked for beyond the spec: how stock tfjs would have run it. */
export interface FitPlan {
  model: tf.LayersModel;
  epochs: number;
  batchSize: number;
  /** Examples an epoch (model.fit); unknown for fitDataset. */
  trainSize?: number;
  stepsPerEpoch: number;
  shuffle: boolean;
  validation?: Split;
  /** fitDataset's held-out dataset, and how many of its batches to read (all when undefined). */
  validationDataset?: { dataset: BatchDataset; batches?: number };
  /** fitDataset's batches. */
  feed?: DatasetFeed;
  /** Stock fitDataset gives onBatchBegin { batch, size }; stock fit gives {}. */
  batchBeginLogs: boolean;
  /** The user's callbacks as tfjs callback objects (plain `{ onEpochEnd, … }` wrapped as tfjs does). */
  callbacks: tf.Callback[];
  /** Names the model was compiled with besides the loss, e.g. ['acc']. */
  metricNames: string[];
  /** The line of the fit call. */
  location?: SourceLocation;
}

const plans = new WeakMap<TrainingSpec, FitPlan>();

/** The plan of a spec that model.fit declared; undefined for defineTraining. */
export function fitPlanOf(spec: TrainingSpec): FitPlan | undefined {
  return plans.get(spec);
}

/** Options stock fit has that the tracer does not follow: refused, by name, at the fit call. */
const UNSUPPORTED: (keyof FitArgs)[] = ['initialEpoch', 'classWeight', 'sampleWeight', 'validationSteps', 'stepsPerEpoch'];

function standardizeCallbacks(callbacks: FitArgs['callbacks']): tf.Callback[] {
  if (!callbacks) return [];
  const list = Array.isArray(callbacks) ? callbacks : [callbacks];
  // A callback object (tf.callbacks.earlyStopping(), a tf.Callback subclass) as it is; a plain
  // `{ onBatchEnd, … }` wrapped the way stock fit wraps it (scalars resolved to numbers). No
  // yielding to the event loop between batches: the tracer's session does that.
  return list.map((c) =>
    typeof (c as tf.Callback).setModel === 'function' ? (c as tf.Callback) : (new tf.CustomCallback(c as tf.CustomCallbackArgs, 'never') as unknown as tf.Callback),
  );
}

function declareFromFit(model: tf.LayersModel, x: unknown, y: unknown, args: FitArgs = {}, locations: LayerLocations): void {
  const where = locations.locate(new Error().stack);
  const fail = (message: string) => new LocatedError({ kind: 'contract', message, location: where });
  if (!model.optimizer) throw fail('model.fit was called before model.compile({ optimizer, loss }).');
  if (!(x instanceof tf.Tensor) || !(y instanceof tf.Tensor)) throw fail('model.fit(xs, ys) is traced when xs and ys are single tensors.');
  for (const option of UNSUPPORTED) {
    if (args[option] !== undefined && args[option] !== null) throw fail(`model.fit's '${option}' option is not traced yet.`);
  }
  if ((args.shuffle as unknown) === 'batch') throw fail("model.fit's shuffle: 'batch' is not traced (stock tfjs does not implement it either).");
  const loss = Array.isArray(model.loss) ? model.loss[0] : model.loss;
  let train: Split = { xs: x, ys: y };
  let validation: Split | undefined;
  if (args.validationData) {
    const v = args.validationData as unknown[];
    if (!Array.isArray(v) || v.length !== 2 || !(v[0] instanceof tf.Tensor) || !(v[1] instanceof tf.Tensor)) {
      throw fail('model.fit: validationData is traced as [xs, ys], two tensors (no sample weights).');
    }
    validation = { xs: v[0], ys: v[1] };
  } else if (args.validationSplit !== undefined && args.validationSplit > 0 && args.validationSplit < 1) {
    // As stock tfjs: the last fraction of the examples, before any shuffling, is held out.
    const n = x.shape[0];
    const splitAt = Math.floor(n * (1 - args.validationSplit));
    train = { xs: tf.slice(x, 0, splitAt), ys: tf.slice(y, 0, splitAt) };
    validation = { xs: tf.slice(x, splitAt, n - splitAt), ys: tf.slice(y, splitAt, n - splitAt) };
  }
  const trainSize = train.xs.shape[0];
  const batchSize = args.batchSize ?? 32;
  const epochs = args.epochs ?? 1;
  const perEpoch = stepsPerEpoch(trainSize, batchSize, true);
  const spec = defineTraining({
    name: model.name,
    model,
    data: { train, test: validation },
    loss: loss as LossName,
    optimizer: model.optimizer,
    batchSize,
    steps: epochs * perEpoch,
    // Held-out metrics are taken at each epoch's end, as stock fit takes them (fitCallbacks.ts).
    evalEvery: 0,
  });
  plans.set(spec, {
    model,
    epochs,
    batchSize,
    trainSize,
    stepsPerEpoch: perEpoch,
    shuffle: args.shuffle ?? true,
    validation,
    batchBeginLogs: false,
    callbacks: standardizeCallbacks(args.callbacks),
    metricNames: model.metricsNames.filter((name) => name !== 'loss'),
    location: where,
  });
}

function declareFromFitDataset(model: tf.LayersModel, dataset: unknown, args: FitDatasetArgs, locations: LayerLocations): void {
  const where = locations.locate(new Error().stack);
  const fail = (message: string) => new LocatedError({ kind: 'contract', message, location: where });
  if (!model.optimizer) throw fail('model.fitDataset was called before model.compile({ optimizer, loss }).');
  if (!isDataset(dataset)) throw fail('model.fitDataset(dataset) is traced when dataset is a tf.data dataset.');
  for (const option of ['initialEpoch', 'classWeight'] as const) {
    if (args[option] !== undefined && args[option] !== null) throw fail(`model.fitDataset's '${option}' option is not traced yet.`);
  }
  const size = dataset.size;
  const batchesPerEpoch = args.batchesPerEpoch ?? (size !== null && Number.isFinite(size) && size > 0 ? size : undefined);
  if (!batchesPerEpoch) throw fail('model.fitDataset over a dataset of unknown size is traced when you give batchesPerEpoch.');
  let validation: Split | undefined;
  let validationDataset: FitPlan['validationDataset'];
  if (isDataset(args.validationData)) {
    validationDataset = { dataset: args.validationData, batches: args.validationBatches };
  } else if (args.validationData) {
    const v = args.validationData as unknown[];
    if (v.length !== 2 || !(v[0] instanceof tf.Tensor) || !(v[1] instanceof tf.Tensor)) {
      throw fail('model.fitDataset: validationData is traced as a dataset or [xs, ys], two tensors.');
    }
    validation = { xs: v[0], ys: v[1] };
  }
  const feed = new DatasetFeed(dataset, batchesPerEpoch, args.batchesPerEpoch !== undefined, where);
  const loss = Array.isArray(model.loss) ? model.loss[0] : model.loss;
  const spec = defineTraining({
    name: model.name,
    model,
    data: { nextBatch: (step) => feed.take(step), test: validation },
    loss: loss as LossName,
    optimizer: model.optimizer,
    steps: args.epochs * batchesPerEpoch,
    evalEvery: 0,
  });
  plans.set(spec, {
    model,
    epochs: args.epochs,
    batchSize: 0,
    stepsPerEpoch: batchesPerEpoch,
    shuffle: false,
    validation,
    validationDataset,
    feed,
    batchBeginLogs: true,
    callbacks: standardizeCallbacks(args.callbacks),
    metricNames: model.metricsNames.filter((name) => name !== 'loss'),
    location: where,
  });
}

/**
 * Replaces fit while the user's file runs; returns the function that puts it back. A refusal
 * goes to `refused` (the file's load fails with it, even when the user's async code swallows
 * the rejection) and rejects fit's promise, as stock fit rejects on bad arguments.
 */
export function interceptFit(locations: LayerLocations, refused: (e: LocatedError) => void): () => void {
  const targets = [tf.LayersModel.prototype, tf.Sequential.prototype] as { fit: Fit; fitDataset: FitDataset }[];
  const originals = targets.map((t) => ({ fit: t.fit, fitDataset: t.fitDataset }));
  for (const target of targets) {
    target.fitDataset = function (this: tf.LayersModel, dataset, args) {
      try {
        declareFromFitDataset(this, dataset, args, locations);
      } catch (e) {
        if (!(e instanceof LocatedError)) throw e;
        refused(e);
        return Promise.reject(e);
      }
      return new Promise<tf.History>(() => undefined);
    } as FitDataset;
    target.fit = function (this: tf.LayersModel, x, y, args) {
      try {
        declareFromFit(this, x, y, args, locations);
      } catch (e) {
        if (!(e instanceof LocatedError)) throw e;
        refused(e);
        return Promise.reject(e);
      }
      // The tracer trains from here; what the script does after fit never runs.
      return new Promise<tf.History>(() => undefined);
    } as Fit;
  }
  return () =>
    targets.forEach((t, i) => {
      t.fit = originals[i].fit;
      t.fitDataset = originals[i].fitDataset;
    });
}
