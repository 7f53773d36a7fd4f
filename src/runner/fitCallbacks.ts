// model.fit's epochs around the traced steps, as stock tfjs runs them (tfjs-layers
// `fitLoop`): onTrainBegin, onEpochBegin, onBatchBegin/onBatchEnd with { batch, size, loss,
// acc }, held-out metrics after each epoch's last batch, onEpochEnd with the epoch's mean loss
// and metrics plus val_loss/val_acc, and stopping when a callback sets model.stopTraining
// (tf.callbacks.earlyStopping does). Each callback is awaited, as stock fit awaits it.
import * as tf from '@tensorflow/tfjs';
import type { Split } from '../api/index';
import type { StepCapture } from './capture/recordBuilder';
import type { FitPlan } from './fitInterception';
import type { ModelTracer } from './tracer/sequentialTracer';
import { batchAccuracy, type Loss } from './tracer/losses';

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

/** Mean loss and accuracy over a split in inference mode, in chunks (as stock fit's test loop). */
export function heldOutMetrics(tracer: ModelTracer, loss: Loss, split: Split): { loss: number; accuracy?: number } {
  const n = split.xs.shape[0];
  let lossSum = 0;
  let correct = 0;
  let counted = false;
  for (let start = 0; start < n; start += EVAL_CHUNK) {
    const size = Math.min(EVAL_CHUNK, n - start);
    tf.tidy(() => {
      const xs = tf.slice(split.xs, start, size);
      const ys = tf.slice(split.ys, start, size);
      const pred = tracer.predict(xs);
      lossSum += loss.fn(ys, pred).dataSync()[0] * size;
      const acc = batchAccuracy(loss.name, ys, pred);
      if (acc) {
        counted = true;
        correct += acc.dataSync()[0] * size;
      }
    });
  }
  return { loss: lossSum / n, accuracy: counted ? correct / n : undefined };
}

export class FitDriver {
  private readonly list: CallbackList;
  private epochSums: Logs = {};
  private epochSeen = 0;

  constructor(
    private readonly plan: FitPlan,
    private readonly tracer: ModelTracer,
    private readonly loss: Loss,
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
      batchSize: plan.batchSize,
      verbose: 0,
      doValidation: plan.validation !== undefined,
      metrics: plan.validation ? [...metrics, ...metrics.map((m) => `val_${m}`)] : metrics,
    });
    this.list.setModel(plan.model);
  }

  private position(step: number): { epoch: number; batch: number; size: number } {
    const { stepsPerEpoch, batchSize, trainSize } = this.plan;
    const batch = step % stepsPerEpoch;
    return { epoch: Math.floor(step / stepsPerEpoch), batch, size: Math.min(batchSize, trainSize - batch * batchSize) };
  }

  /** Batch logs with the metric names the model was compiled with ('acc', 'accuracy'). */
  private logsOf(loss: number, accuracy: number | undefined): Logs {
    const logs: Logs = { loss };
    for (const name of this.plan.metricNames) {
      if (accuracy !== undefined && /^(acc|accuracy)$/.test(name)) logs[name] = accuracy;
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
    // Stock fit fills in `batch` and `size` only after onBatchBegin.
    await this.list.onBatchBegin(batch, {});
  }

  /** After a traced step: its callbacks, and at an epoch's end its held-out metrics; true to stop. */
  async afterStep(step: number, capture: StepCapture): Promise<boolean> {
    const { epoch, batch, size } = this.position(step);
    const logs = this.logsOf(capture.loss, capture.accuracy);
    for (const [key, value] of Object.entries(logs)) this.epochSums[key] = (this.epochSums[key] ?? 0) + value * size;
    this.epochSeen += size;
    const epochEnds = batch === this.plan.stepsPerEpoch - 1;
    let epochLogs: Logs | undefined;
    if (epochEnds && this.plan.validation) {
      const held = heldOutMetrics(this.tracer, this.loss, this.plan.validation);
      capture.testLoss = held.loss;
      capture.testAccuracy = held.accuracy;
      epochLogs = {};
      for (const [key, value] of Object.entries(this.logsOf(held.loss, held.accuracy))) epochLogs[`val_${key}`] = value;
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
    return stop;
  }
}
