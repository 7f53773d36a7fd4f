// One traced run inside the runner: steps through training phase by phase, holds between
// phases when paused (like a debugger), writes every step to the trace, and streams progress.
import type { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import type { AtPhase, ControlAction, FromRunner, RunState, TypeCheckMode, TypeDiagnostic } from '../shared/protocol';
import type { PhaseStop } from '../shared/phases';
import type { BackendInfo, RunError, RunMeta } from '../shared/traceTypes';
import { CapturePipeline, type TakenStep } from './capture/capturePipeline';
import { buildStepRecordInPlace, isKeyframe } from './capture/recordBuilder';
import { finishedStep, partialStep, viewOut } from './capture/stepCopy';
import { StepScope } from './tracer/stepScope';
import type { PreparedRun } from './prepareRun';
import { heldOutMetrics, type HeldOut, type TrainedBatch } from './fitCallbacks';
import { toRunError } from './runError';
import { exampleCount, tensorList } from './exampleTensors';
import { startTypeCheck, typeFailure } from './typeCheck/typeCheck';
import { markStage } from './startupTiming';

type HoldRule = (stop: PhaseStop, step: number) => boolean;

export class TrainingSession {
  private hold?: HoldRule;
  private release?: () => void;
  private stopRequested = false;
  private stepsDone = 0;
  private typeError?: RunError;
  private pipeline?: CapturePipeline;

  constructor(
    private readonly run: PreparedRun,
    private readonly send: (msg: FromRunner) => void,
    startPaused: boolean,
  ) {
    if (startPaused) this.hold = () => true;
  }

  meta(backend: BackendInfo, lesson: string | undefined, runId: string): RunMeta {
    return {
      formatVersion: 1,
      runId,
      file: this.run.user.file,
      lesson,
      createdAt: new Date().toISOString(),
      backend,
      model: this.run.tracer.summary,
      config: this.run.config,
      classNames: this.run.spec.classNames,
      tfjsVersion: tf.version.tfjs,
    };
  }

  control(action: ControlAction, toStep?: number): void {
    switch (action) {
      case 'pause':
        this.hold = () => true;
        return;
      case 'continue':
        this.hold = undefined;
        break;
      case 'stepPhase':
        this.hold = () => true;
        break;
      case 'stepBatch': {
        const current = this.stepsDone;
        this.hold = (stop, step) => stop.phase === 'update' && step >= current;
        break;
      }
      case 'runTo': {
        const target = toStep ?? this.stepsDone;
        this.hold = (stop, step) => stop.phase === 'update' && step >= target;
        break;
      }
    }
    this.resume();
  }

  stop(): void {
    this.stopRequested = true;
    this.resume();
  }

  private resume(): void {
    const release = this.release;
    this.release = undefined;
    release?.();
  }

  private setState(state: RunState, step = this.stepsDone, endedEarly?: string): void {
    this.send({ type: 'state', state, step, ...(endedEarly !== undefined ? { endedEarly } : {}) });
  }

  private async holdAt(at: AtPhase): Promise<void> {
    this.setState('paused', at.step);
    this.send(at);
    await new Promise<void>((resolve) => (this.release = resolve));
    if (!this.stopRequested) this.setState('running', at.step);
  }

  /** Creates the trace folder and its files (through `worker`, booted already, when given); resolves when they exist. */
  async open(outDir: string, meta: RunMeta, worker?: Worker): Promise<void> {
    this.pipeline = new CapturePipeline(outDir, meta, worker);
    await this.pipeline.opened;
  }

  /** Trains to the end (or until stopped or failed), writing into the trace `open` created. */
  async train(typeCheck: TypeCheckMode): Promise<void> {
    const pipeline = this.pipeline!;
    const { config } = this.run;
    let failure: RunError | undefined;
    const typeChecked = this.checkTypes(typeCheck);
    // A verdict already in the cache fails an 'error' run before its first step.
    failure = this.typeError;
    const written: Promise<void>[] = [];
    this.setState('running', 0);
    let endedEarly: string | undefined;
    try {
      if (this.hold && !failure) await this.holdAt({ type: 'atPhase', step: 0, phase: 'forward', layer: -1 });
      for (let step = 0; step < config.steps && !this.stopRequested && !failure; step++) {
        // Writing step k overlaps with computing step k+1, no further: progress is reported at
        // most one step late, even when the user's code then keeps this thread busy. Step 0 is
        // reported before step 1 starts: it is what a user waits for after Trace (its reply
        // otherwise waited for step 1's compute, ≈ 30 ms of the cold start).
        if (step === 1) await written[0];
        if (step >= 2) await written[step - 2];
        if (failure) break;
        await this.run.beforeStep(step);
        const traced = await this.traceStep(step);
        if (!traced) break;
        if (step === 0) markStage('step 0 computed');
        this.stepsDone = step + 1;
        // model.fit's callbacks (early stopping ends the run as finished, as stock fit returns)
        // and its held-out metrics at an epoch's end; defineTraining's at its evalEvery.
        const after = await this.run.afterStep(step, traced.trained);
        const trainingEnds = after.stop;
        if (step === 0) markStage('step 0 evaluated');
        const { written: done } = await pipeline.submit(traced.taken, { stepMs: traced.stepMs, ...(after.heldOut ?? this.heldOutMetrics(step)) });
        const reported = done.then((w) => {
          if (!w.entry || !w.health || w.stepMs === undefined) return;
          this.send({ type: 'stepDone', entry: w.entry, stepMs: w.stepMs, health: w.health });
          failure ??= w.failure;
        });
        // A failed write is awaited (and reported) below; until then it must not count as an
        // unhandled rejection, which tfjs-wasm turns into a crash.
        reported.catch(() => undefined);
        written.push(reported);
        failure ??= this.typeError;
        if (trainingEnds) {
          endedEarly = `model.fit's callbacks stopped training after step ${step}`;
          break;
        }
        // Let stop and pause requests in: user code may keep the thread busy between steps.
        await new Promise((resolve) => setImmediate(resolve));
      }
      await Promise.all(written);
      // The check's verdict is part of the run: its warnings are reported before the run ends,
      // and in 'error' mode a type error found after the last step still fails it.
      if (!failure && !this.stopRequested) failure = await typeChecked;
    } catch (e) {
      await Promise.allSettled(written);
      failure ??= toRunError(e, (f) => this.run.user.sources.has(f), this.stepsDone);
    }
    const state = failure ? 'failed' : this.stopRequested ? 'stopped' : 'finished';
    try {
      await pipeline.close({ state, error: failure });
    } catch (e) {
      // end.json could not be written (the disk that failed a step is still full): say so, and end.
      failure ??= toRunError(e, () => false, this.stepsDone);
    }
    if (failure) this.send({ type: 'failed', error: failure });
    this.setState(failure ? 'failed' : state, this.stepsDone, state === 'finished' ? endedEarly : undefined);
  }

  /**
   * Starts the type check. Its errors go to the host as located warnings as soon as they are
   * known (before the first step when the cache has them); in 'error' mode the first one also
   * becomes the run's failure. Resolves with that failure, if any.
   */
  private checkTypes(mode: TypeCheckMode): Promise<RunError | undefined> {
    const check = mode === 'off' ? undefined : startTypeCheck(this.run.user.file);
    if (!check) return Promise.resolve(undefined);
    const report = (diagnostics: TypeDiagnostic[]): RunError | undefined => {
      if (diagnostics.length > 0) this.send({ type: 'typeDiagnostics', diagnostics });
      this.typeError = mode === 'error' ? typeFailure(diagnostics) : undefined;
      return this.typeError;
    };
    if (check.known) return Promise.resolve(report(check.known));
    return check.done.then(report, (e: unknown) => {
      // A checker that cannot run must not fail the user's run; say so rather than stay silent.
      this.send({ type: 'log', level: 'warn', text: `the type check did not run: ${e instanceof Error ? e.message : String(e)}` });
      return undefined;
    });
  }

  /**
   * One step, phase by phase, and its captured tensors copied out while they are still on the
   * backend; `stepMs` includes the copy (the capture's cost on this thread). Undefined when stopped while held.
   */
  private async traceStep(step: number): Promise<{ taken: TakenStep; stepMs: number; trained: TrainedBatch } | undefined> {
    const { config, tracer, batches } = this.run;
    const capturing = config.capture.summaries || config.capture.sampleIndices.length > 0;
    const batch = batches.batch(step);
    const batchSize = exampleCount(batch.xs);
    const scope = new StepScope(capturing, [...tensorList(batch.xs), ...tensorList(batch.ys)]);
    let computeMs = 0;
    try {
      const phases = tracer.step(batch.xs, batch.ys, scope);
      for (;;) {
        const t0 = performance.now();
        const next = phases.next();
        computeMs += performance.now() - t0;
        if (next.done) {
          const t1 = performance.now();
          const taken = this.pipeline!.take(finishedStep(step, isKeyframe(step, config.steps, config.capture), batchSize, next.value));
          const { loss, accuracy, outputLosses, outputAccuracies } = next.value;
          return { taken, stepMs: computeMs + performance.now() - t1, trained: { loss, accuracy, outputLosses, outputAccuracies, batchSize } };
        }
        if (this.hold?.(next.value, step)) {
          // Held mid-step, like a debugger: show what this step has computed so far.
          const record = capturing ? { ...buildStepRecordInPlace(viewOut(partialStep(step, batchSize, scope, tensorList(batch.ys)[0])), config.capture, tracer.summary.layers), stepMs: 0 } : undefined;
          await this.holdAt({ type: 'atPhase', step, ...next.value, record });
          if (this.stopRequested) {
            phases.return(undefined as never);
            return undefined;
          }
        }
      }
    } finally {
      scope.dispose();
      tf.dispose([batch.xs, batch.ys]);
    }
  }

  /** The held-out loss and accuracy, in inference mode after the step's update, at the steps defineTraining's evalEvery asks for. */
  private heldOutMetrics(step: number): HeldOut | Record<string, never> {
    const { test, config, tracer } = this.run;
    if (!test || config.evalEvery <= 0) return {};
    if (step % config.evalEvery !== 0 && step !== config.steps - 1) return {};
    const held = heldOutMetrics(tracer, test);
    return { testLoss: held.loss, testAccuracy: held.accuracy };
  }
}
