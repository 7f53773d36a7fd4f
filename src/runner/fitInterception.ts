// A plain tfjs script — compile, then model.fit(xs, ys, { epochs, batchSize, … }) or
// model.fitDataset(dataset, { epochs, … }) — is traced too: while the user's file runs, fit
// declares the training to the tracer instead of running it, with stock tfjs's semantics
// (validation split or data, partial batches, shuffle, callbacks), which it hands over as a
// FitPlan (see fitCallbacks.ts). A training loop of the file's own (trainOnBatch, or
// optimizer.minimize) is not traced: refused at its line, not run to the end and then doubted.
import * as tf from '@tensorflow/tfjs';
import { defineTraining, type Split, type Tensors, type TrainingSpec } from '../api/index';
import { exampleCount, modelTensors, sliceExamples } from './exampleTensors';
import type { SourceLocation } from '../shared/traceTypes';
import { LocatedError } from './runError';
import { stepsPerEpoch } from './batches';
import type { LayerLocations } from './layerLocations';
import { DatasetFeed, isDataset, modelNames, type BatchDataset } from './datasetFeed';

type Fit = tf.LayersModel['fit'];
type FitDataset = tf.LayersModel['fitDataset'];
type FitArgs = tf.ModelFitArgs;
type FitDatasetArgs = Parameters<FitDataset>[1];
type TrainOnBatch = tf.LayersModel['trainOnBatch'];

/** What model.fit asked for beyond the spec: how stock tfjs would have run it. */
export interface FitPlan {
  model: tf.LayersModel;
  epochs: number;
  batchSize: number;
  /** Examples an epoch (model.fit); unknown for fitDataset. */
  trainSize?: number;
  stepsPerEpoch: number;
  shuffle: boolean;
  validation?: Split<Tensors>;
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
  const xs = modelTensors(x, model.inputNames, 'xs', 'model.fit', fail);
  const ys = modelTensors(y, model.outputNames, 'ys', 'model.fit', fail);
  for (const option of UNSUPPORTED) {
    if (args[option] !== undefined && args[option] !== null) throw fail(`model.fit's '${option}' option is not traced yet.`);
  }
  if ((args.shuffle as unknown) === 'batch') throw fail("model.fit's shuffle: 'batch' is not traced (stock tfjs does not implement it either).");
  let train: Split<Tensors> = { xs, ys };
  let validation: Split<Tensors> | undefined;
  if (args.validationData) {
    const v = args.validationData as unknown[];
    if (!Array.isArray(v) || v.length !== 2) throw fail('model.fit: validationData is traced as [xs, ys] (no sample weights).');
    validation = { xs: modelTensors(v[0], model.inputNames, 'xs', 'model.fit', fail), ys: modelTensors(v[1], model.outputNames, 'ys', 'model.fit', fail) };
  } else if (args.validationSplit !== undefined && args.validationSplit > 0 && args.validationSplit < 1) {
    // As stock tfjs: the last fraction of the examples, before any shuffling, is held out.
    const n = exampleCount(xs);
    const splitAt = Math.floor(n * (1 - args.validationSplit));
    train = { xs: sliceExamples(xs, 0, splitAt), ys: sliceExamples(ys, 0, splitAt) };
    validation = { xs: sliceExamples(xs, splitAt, n - splitAt), ys: sliceExamples(ys, splitAt, n - splitAt) };
  }
  const trainSize = exampleCount(train.xs);
  const batchSize = args.batchSize ?? 32;
  const epochs = args.epochs ?? 1;
  const perEpoch = stepsPerEpoch(trainSize, batchSize, true);
  const spec = defineTraining({
    name: model.name,
    model,
    data: { train, test: validation },
    loss: model.loss as TrainingSpec['loss'],
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
  let validation: Split<Tensors> | undefined;
  let validationDataset: FitPlan['validationDataset'];
  if (isDataset(args.validationData)) {
    validationDataset = { dataset: args.validationData, batches: args.validationBatches };
  } else if (args.validationData) {
    const v = args.validationData as unknown[];
    if (!Array.isArray(v) || v.length !== 2) throw fail('model.fitDataset: validationData is traced as a dataset or [xs, ys].');
    validation = { xs: modelTensors(v[0], model.inputNames, 'xs', 'model.fitDataset', fail), ys: modelTensors(v[1], model.outputNames, 'ys', 'model.fitDataset', fail) };
  }
  const feed = new DatasetFeed(dataset, modelNames(model), batchesPerEpoch, args.batchesPerEpoch !== undefined, where);
  const spec = defineTraining({
    name: model.name,
    model,
    data: { nextBatch: (step) => feed.take(step), test: validation },
    loss: model.loss as TrainingSpec['loss'],
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

/** While the user's file runs: fit declared, trainOnBatch refused, a training loop of its own noticed. */
export interface FitInterception {
  /** Puts tfjs back as it was. */
  restore(): void;
  /** The file's first optimizer.minimize call, when it trains in a loop of its own (untraced). */
  readonly ownLoop?: SourceLocation;
}

const TRACED_WAYS = 'model.fit(xs, ys, { epochs, batchSize }) (traced as stock fit runs it), or export default defineTraining({ model, data, loss, optimizer }) from "gradient-lens"';

/**
 * Replaces fit while the user's file runs (see FitInterception). A refusal goes to `refused`
 * (the file's load fails with it, even when the user's async code swallows the rejection) and
 * rejects fit's promise, as stock fit rejects on bad arguments.
 */
export function interceptFit(locations: LayerLocations, refused: (e: LocatedError) => void): FitInterception {
  const targets = [tf.LayersModel.prototype, tf.Sequential.prototype] as { fit: Fit; fitDataset: FitDataset; trainOnBatch: TrainOnBatch }[];
  const originals = targets.map((t) => ({ fit: t.fit, fitDataset: t.fitDataset, trainOnBatch: t.trainOnBatch }));
  const minimize = tf.Optimizer.prototype.minimize;
  const interception: { restore(): void; ownLoop?: SourceLocation } = {
    restore: () => {
      tf.Optimizer.prototype.minimize = minimize;
      targets.forEach((t, i) => {
        t.fit = originals[i].fit;
        t.fitDataset = originals[i].fitDataset;
        t.trainOnBatch = originals[i].trainOnBatch;
      });
    },
  };
  // A loop of the file's own keeps running, untraced: where it is goes into the "no training" error.
  tf.Optimizer.prototype.minimize = function (this: tf.Optimizer, ...args: Parameters<typeof minimize>) {
    interception.ownLoop ??= locations.locate(new Error().stack);
    return minimize.apply(this, args);
  };
  for (const target of targets) {
    target.trainOnBatch = function (this: tf.LayersModel) {
      // Each call would be a step the tracer does not drive: refused at the first, before it trains.
      const e = new LocatedError({ kind: 'contract', message: `model.trainOnBatch is not traced: train with ${TRACED_WAYS}.`, location: locations.locate(new Error().stack) });
      refused(e);
      return Promise.reject(e);
    } as TrainOnBatch;
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
  return interception;
}
