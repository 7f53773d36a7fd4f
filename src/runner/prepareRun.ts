// From a model file to a ready tracer: bundle, run the file with its seed, check the spec it
// declared, and build the tracer for its model (which reports what it cannot trace).
import * as tf from '@tensorflow/tfjs';
import { isTappedModel, type Split, type Tensors, type TrainingSpec } from '../api/index';
import type { StartRequest } from '../shared/protocol';
import type { RunConfig } from '../shared/traceTypes';
import { FieldError } from '../shared/fieldChecks';
import { capturePolicy } from '../shared/messageValidators';
import { batchSource, type BatchSource } from './batches';
import { LocatedError, toRunError } from './runError';
import { DEFAULT_SEED, keyframeBudgetFor, resolveConfig } from './runConfig';
import { lossesName, resolveOutputLosses, type Loss } from './tracer/losses';
import { exampleCount, oneTensor } from './exampleTensors';
import { SequentialTracer, type ModelTracer } from './tracer/sequentialTracer';
import { TappedTracer } from './tracer/tappedTracer';
import { GraphTracer } from './tracer/graphTracer';
import { bundleUserFile, evaluateUserFile, type UserFile } from './userModule';
import { fitPlanOf } from './fitInterception';
import { FitDriver, type AfterStep, type TrainedBatch } from './fitCallbacks';
import { markStage } from './startupTiming';

export interface PreparedRun {
  user: UserFile;
  spec: TrainingSpec;
  config: RunConfig;
  loss: Loss;
  tracer: ModelTracer;
  batches: BatchSource;
  test?: Split<Tensors>;
  /** Before a step: rejections in the user's async code fail the run; model.fit's begin callbacks. */
  beforeStep(step: number): Promise<void>;
  /** After a traced step, before it is written: model.fit's callbacks (whether they stop training) and held-out metrics. */
  afterStep(step: number, trained: TrainedBatch): Promise<AfterStep>;
}

function checkSpec(spec: TrainingSpec, file: string): void {
  const problems: string[] = [];
  if (!spec.model) problems.push('model is missing');
  if (!spec.data) problems.push('data is missing');
  if (!spec.loss) problems.push('loss is missing');
  if (!spec.optimizer || typeof (spec.optimizer as tf.Optimizer).applyGradients !== 'function') {
    problems.push('optimizer must be a tfjs optimizer, e.g. tf.train.sgd(0.1)');
  }
  if (problems.length > 0) {
    throw new LocatedError({ kind: 'contract', message: `defineTraining: ${problems.join('; ')}.`, location: { file, line: 1, column: 1 } });
  }
}

export async function prepareRun(file: string, overrides: StartRequest['overrides'] = {}): Promise<PreparedRun> {
  const user = await bundleUserFile(file);
  markStage('bundled');
  const { spec, seed, locations, failures } = await evaluateUserFile(user, overrides.seed, DEFAULT_SEED);
  markStage('model file ran');
  checkSpec(spec, user.file);
  let losses: Loss[];
  try {
    // One loss per output (a functional model may have several), as tfjs's compile reads it.
    // (A tf.sequential model has one output; its outputNames stay empty until it is compiled.)
    const graph = !isTappedModel(spec.model) && spec.model.getClassName() !== 'Sequential';
    const outputNames = graph ? (spec.model as tf.LayersModel).outputNames : ['output'];
    losses = resolveOutputLosses(spec.loss, outputNames);
  } catch (e) {
    throw new LocatedError({ kind: 'contract', message: (e as Error).message, location: { file: user.file, line: 1, column: 1 } });
  }
  const loss = losses[0];
  const plan = fitPlanOf(spec);
  // fitDataset: the batch size is the dataset's, known from its first batch (kept for step 0).
  if (plan?.feed) spec.batchSize = exampleCount((await atStep(0, user, async () => plan.feed!.fetch(0))).xs);
  const resolved = resolveConfig(spec, lossesName(losses), seed, overrides);
  try {
    // A policy meta.json's reader would refuse must not become a trace: say so at the start.
    capturePolicy(resolved.capture, 'capture');
  } catch (e) {
    if (!(e instanceof FieldError)) throw e;
    throw new LocatedError({ kind: 'contract', message: `defineTraining: ${e.message}.`, location: { file: user.file, line: 1, column: 1 } });
  }
  const batches = batchSource(spec.data, resolved.batchSize, seed, plan && { partialBatches: true, shuffle: plan.shuffle });
  let tracer: ModelTracer;
  if (isTappedModel(spec.model)) {
    const sample = batches.batch(0);
    tracer = new TappedTracer(spec.model, locations, loss, spec.optimizer, oneTensor(sample.xs, 'inputs'));
    tf.dispose([sample.xs, sample.ys]);
  } else if (spec.model.getClassName() === 'Sequential') {
    tracer = new SequentialTracer(spec.model, locations, loss, spec.optimizer);
  } else {
    tracer = new GraphTracer(spec.model, locations, losses, spec.optimizer);
  }
  const keyframeBudgetSet = overrides.capture?.keyframeBudgetBytes !== undefined || spec.capture?.keyframeBudgetBytes !== undefined;
  // The keyframe budget scales to the model, known only once it is built.
  const config: RunConfig = { ...resolved, capture: { ...resolved.capture, keyframeBudgetBytes: keyframeBudgetFor(resolved.capture, keyframeBudgetSet, tracer.summary.totalParams) } };
  const fit = plan && new FitDriver(plan, tracer, config.steps - 1);
  return {
    user,
    spec,
    config,
    loss,
    tracer,
    batches,
    test: spec.data.test,
    beforeStep: (step) =>
      atStep(step, user, async () => {
        failures.throwIfAny(step);
        await fit?.beforeStep(step);
        failures.throwIfAny(step);
      }),
    afterStep: (step, trained) =>
      atStep(step, user, async () => {
        const after = (await fit?.afterStep(step, trained)) ?? { stop: false };
        failures.throwIfAny(step);
        return after;
      }),
  };
}

/** Runs the user's callbacks around a step; what they throw is told at their line, with the step. */
async function atStep<T>(step: number, user: UserFile, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    throw new LocatedError(toRunError(e, (f) => user.sources.has(f), step));
  }
}
