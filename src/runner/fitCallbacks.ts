// model.fit's (and fitDataset's) epochs around the traced steps, as stock tfjs runs them
// (tfjs-layers `fitLoop`, `fitDataset`): onTrainBegin, onEpochBegin, onBatchBegin/onBatchEnd with { batch, size, loss,
// acc }, held-out metrics after each epoch's last batch, onEpochEnd with the epoch's mean loss
// and metrics plus val_loss/val_acc, and stopping when a callback sets model.stopTraining
// (tf.callbacks.earlyStopping does). Each callback is awaited, as stock fit awaits it.
import * as tf from '@tensorflow/tfjs';
import type { Split, Tensors } from '../api/index';
import type { FitPlan } from './fitInterception';
import type { HeldOutMetrics, ModelTracer } from './tracer/sequentialTracer';
import { exampleCount, sliceExamples } from './exampleTensors';
import { asSplit, modelNames, type ModelNames } from './datasetFeed';
import { LocatedError } from './runError';

type Logs = Record<string, number>;

/** The part of tfjs's CallbackList the driver uses. */
interface CallbackList {
  setParams(params: Record<string, unknown>): void;
  setModel(model: tf.LayersModel): void;
  onTrainBegin(logs?: Logs): Promise<void>;
  onTrainEnd(logs?: Logs): Promise<void>;
  onEpochBegin(epoch: number, logs?: Logs): Promise<void>;
  onEpochEnd(epoch: number, logs?: Logs): Promise<void>;
  onBatchBegin(batch: number, logs?: Logs): Promise<void>;
  onBatchEnd(batch: number, logs?: Logs): Promise<void>;
}

const EVAL_CHUNK = 512;

/** What a traced step tells the callbacks. */
export interface TrainedBatch {
  loss: number;
  accuracy?: number;
  /** A model with several outputs: each one's loss and accuracy. */
  outputLosses?: number[];
  outputAccuracies?: (number | undefined)[];
  batchSize: number;
}

/** The held-out metrics a step's record carries, when the step evaluated them. */
export interface HeldOut {
  testLoss: number;
  testAccuracy?: number;
}

/** What follows a step: whether training stops there, and the held-out metrics it took. */
export interface AfterStep {
  stop: boolean;
  heldOut?: HeldOut;
}

/** Held-out metrics of several chunks, each weighted by its size: loss, accuracy, then each output's. */
class WeightedMetrics {
  private readonly sums = new Map<string, number>();
  private outputs = 0;
  private n = 0;

  add(held: HeldOutMetrics, size: number): void {
    const add = (key: string, value: number | undefined) => {
      if (value !== undefined) this.sums.set(key, (this.sums.get(key) ?? 0) + value * size);
    };
    this.n += size;
    add('loss', held.loss);
    add('accuracy', held.accuracy);
    this.outputs = held.outputLosses?.length ?? 0;
    held.outputLosses?.forEach((v, k) => add(`loss${k}`, v));
    held.outputAccuracies?.forEach((v, k) => add(`accuracy${k}`, v));
  }

  mean(): HeldOutMetrics {
    const mean = (key: string) => (this.sums.has(key) ? this.sums.get(key)! / this.n : undefined);
    const held: HeldOutMetrics = { loss: mean('loss')!, accuracy: mean('accuracy') };
    if (this.outputs === 0) return held;
    const ks = Array.from({ length: this.outputs }, (_, k) => k);
    return { ...held, outputLosses: ks.map((k) => mean(`loss${k}`)!), outputAccuracies: ks.map((k) => mean(`accuracy${k}`)) };
  }
}

/** Mean loss and accuracy (each output's too) over a split in inference mode, in chunks (as stock fit's test loop). */
export function heldOutMetrics(tracer: ModelTracer, split: Split<Tensors>): HeldOutMetrics {
  const n = exampleCount(split.xs);
  const metrics = new WeightedMetrics();
  for (let start = 0; start < n; start += EVAL_CHUNK) {
    const size = Math.min(EVAL_CHUNK, n - start);
    tf.tidy(() => metrics.add(tracer.evaluate(sliceExamples(split.xs, start, size), sliceExamples(split.ys, start, size)), size));
  }
  return metrics.mean();
}

/** The same over a tf.data dataset of batches (its first `batches`, or all), as stock evaluateDataset. */
async function heldOutMetricsOfDataset(tracer: ModelTracer, source: NonNullable<FitPlan['validationDataset']>, names: ModelNames): Promise<HeldOutMetrics> {
  const iterator = await source.dataset.iterator();
  const metrics = new WeightedMetrics();
  for (let b = 0; source.batches === undefined || b < source.batches; b++) {
    const next = await iterator.next();
    if (next.done) break;
    const split = asSplit(next.value, names, (message) => new LocatedError({ kind: 'contract', message }));
    metrics.add(heldOutMetrics(tracer, split), exampleCount(split.xs));
    tf.dispose([split.xs, split.ys]);
  }
  return metrics.mean();
}

export class FitDriver {
  private readonly list: CallbackList;
  private epochSums: Logs = {};
  private epochSeen = 0;

  constructor(
    private readonly plan: FitPlan,
    private readonly tracer: ModelTracer,
    /** The run's last step (the plan's, or fewer when the caller asked for fewer). */
    private readonly lastStep: number,
  ) {
    this.list = new tf.CallbackList(plan.callbacks) as unknown as CallbackList;
    const metrics = ['loss', ...plan.metricNames];
    this.list.setParams({
      epochs: plan.epochs,
      initialEpoch: 0,
      samples: plan.trainSize,
      steps: null,
      batchSize: plan.feed ? null : plan.batchSize,
      verbose: 0,
      doValidation: plan.validation !== undefined || plan.validationDataset !== undefined,
      metrics: plan.validation || plan.validationDataset ? [...metrics, ...metrics.map((m) => `val_${m}`)] : metrics,
    });
    this.list.setModel(plan.model);
  }

  private position(step: number): { epoch: number; batch: number } {
    const { stepsPerEpoch } = this.plan;
    return { epoch: Math.floor(step / stepsPerEpoch), batch: step % stepsPerEpoch };
  }

  /**
   * Batch logs with the metric names the model was compiled with ('acc', 'accuracy'); a model with
   * several outputs also logs each one's as '<output>_loss' and '<output>_acc', as stock fit does.
   */
  private logsOf(loss: number, accuracy: number | undefined, outputLosses?: number[], outputAccuracies?: (number | undefined)[]): Logs {
    const logs: Logs = { loss };
    const outputs = this.plan.model.outputNames;
    for (const name of this.plan.metricNames) {
      if (accuracy !== undefined && /^(acc|accuracy)$/.test(name)) logs[name] = accuracy;
      if (!outputLosses) continue;
      outputs.forEach((output, k) => {
        if (name === `${output}_loss`) logs[name] = outputLosses[k];
        const acc = outputAccuracies?.[k];
        if (acc !== undefined && (name === `${output}_acc` || name === `${output}_accuracy`)) logs[name] = acc;
      });
    }
    return logs;
  }

  async beforeStep(step: number): Promise<void> {
    const { epoch, batch } = this.position(step);
    if (step === 0) {
      this.plan.model.stopTraining = false;
      await this.list.onTrainBegin();
    }
    if (batch === 0) {
      this.epochSums = {};
      this.epochSeen = 0;
      await this.list.onEpochBegin(epoch);
    }
    const fed = await this.plan.feed?.fetch(step);
    // Stock fit fills in `batch` and `size` only after onBatchBegin; stock fitDataset before.
    await this.list.onBatchBegin(batch, this.plan.batchBeginLogs && fed ? { batch, size: exampleCount(fed.xs) } : {});
  }

  /** After a traced step: its callbacks, and at an epoch's end its held-out metrics (for the step's record). */
  async afterStep(step: number, trained: TrainedBatch): Promise<AfterStep> {
    const { epoch, batch } = this.position(step);
    const size = trained.batchSize;
    const logs = this.logsOf(trained.loss, trained.accuracy, trained.outputLosses, trained.outputAccuracies);
    for (const [key, value] of Object.entries(logs)) this.epochSums[key] = (this.epochSums[key] ?? 0) + value * size;
    this.epochSeen += size;
    const epochEnds = batch === this.plan.stepsPerEpoch - 1;
    let epochLogs: Logs | undefined;
    let heldOut: HeldOut | undefined;
    if (epochEnds && (this.plan.validation || this.plan.validationDataset)) {
      const held = this.plan.validationDataset
        ? await heldOutMetricsOfDataset(this.tracer, this.plan.validationDataset, modelNames(this.plan.model))
        : heldOutMetrics(this.tracer, this.plan.validation!);
      heldOut = { testLoss: held.loss, testAccuracy: held.accuracy };
      epochLogs = {};
      for (const [key, value] of Object.entries(this.logsOf(held.loss, held.accuracy, held.outputLosses, held.outputAccuracies))) epochLogs[`val_${key}`] = value;
    }
    await this.list.onBatchEnd(batch, { batch, size, ...logs });
    const stopping = this.plan.model.stopTraining;
    if (epochEnds || stopping) {
      // As tfjs's BaseLogger: the epoch's loss and metrics are means weighted by batch size.
      const means: Logs = {};
      for (const [key, sum] of Object.entries(this.epochSums)) means[key] = sum / this.epochSeen;
      await this.list.onEpochEnd(epoch, { ...means, ...epochLogs });
    }
    const stop = stopping || this.plan.model.stopTraining;
    if (stop || step >= this.lastStep) await this.list.onTrainEnd();
    return { stop, heldOut };
  }
}
