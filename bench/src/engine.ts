// The capture calls the benchmarks make, as the runner makes them: the step's captured tensors
// copied out on the training thread while they are still on the backend (copyOut), then
// summarised and built into a record (buildStepRecord), encoded and written — in the runner, all
// of that after the copy happens in the capture worker.
// Typed against the engine, so an API change fails the type-check, not the numbers.
import type { CapturePipeline, TakenStep } from '../../src/runner/capture/capturePipeline';
import { DEFAULT_CAPTURE, buildStepRecord } from '../../src/runner/capture/recordBuilder';
import { copyOut, finishedStep } from '../../src/runner/capture/stepCopy';
import type { StepOutcome } from '../../src/runner/tracer/stepScope';
import type { CopiedStep } from '../../src/shared/protocol';
import type { CapturePolicy, StepRecord } from '../../src/shared/traceTypes';

/** 'split': a copy out on the training thread, then the record built from the copies (reports say so). */
export const CAPTURE_API = 'split' as const;

export interface BuiltRecord {
  record: StepRecord;
  /** The copy out of the backend, on the training thread (the runner's whole capture cost there). */
  readBackMs: number;
  /** Building the record from the copies: summaries and kept tensors (the capture worker's part). */
  buildMs: number;
}

/** The step copied out of the backend, as the runner hands it to the capture worker when the worker keeps up. */
export function copiedOf(step: number, keyframe: boolean, outcome: StepOutcome, batchSize: number): CopiedStep {
  return copyOut(finishedStep(step, keyframe, batchSize, outcome));
}

/** What the runner's session takes off the backend after each step (before the scope is disposed), through `pipeline`. */
export function takenOf(step: number, keyframe: boolean, outcome: StepOutcome, batchSize: number, pipeline: CapturePipeline): TakenStep {
  return pipeline.take(finishedStep(step, keyframe, batchSize, outcome));
}

/** The record the capture worker builds from that step. */
export function recordOf(step: number, keyframe: boolean, outcome: StepOutcome, batchSize: number, policy: CapturePolicy = DEFAULT_CAPTURE): StepRecord {
  return { ...buildStepRecord(copiedOf(step, keyframe, outcome, batchSize), policy), stepMs: 0 };
}

/** The record, its two parts timed. */
export function buildRecord(step: number, keyframe: boolean, outcome: StepOutcome, policy: CapturePolicy = DEFAULT_CAPTURE): BuiltRecord {
  const t0 = performance.now();
  const copied = copiedOf(step, keyframe, outcome, outcome.prediction.length / outcome.outputSize);
  const t1 = performance.now();
  const record = { ...buildStepRecord(copied, policy), stepMs: 0 };
  return { record, readBackMs: t1 - t0, buildMs: performance.now() - t1 };
}
