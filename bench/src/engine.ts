// The capture calls the benchmarks make, as the runner makes them: the step's record built on the
// training thread while its tensors are on the backend (buildStepRecord: summaries read in place,
// the kept tensors copied out), then encoded and written (in the capture worker in the runner).
// Typed against the engine, so an API change fails the type-check, not the numbers.
import { DEFAULT_CAPTURE, buildStepRecord, finishedStep } from '../../src/runner/capture/recordBuilder';
import type { StepOutcome } from '../../src/runner/tracer/stepScope';
import type { CapturePolicy, StepRecord } from '../../src/shared/traceTypes';

export const CAPTURE_API = 'built' as const;

export interface BuiltRecord {
  record: StepRecord;
  /** A separate read-back before the record (none since the record is built in place). */
  readBackMs: number;
  /** Building the record: summaries and kept tensors. */
  buildMs: number;
}

/** The record the runner's session builds after each step (before the scope is disposed). */
export function recordOf(step: number, keyframe: boolean, outcome: StepOutcome, batchSize: number, policy: CapturePolicy = DEFAULT_CAPTURE): StepRecord {
  return { ...buildStepRecord(finishedStep(step, keyframe, batchSize, outcome), policy), stepMs: 0 };
}

/** The record, timed. */
export function buildRecord(step: number, keyframe: boolean, outcome: StepOutcome, policy: CapturePolicy = DEFAULT_CAPTURE): BuiltRecord {
  const t0 = performance.now();
  const record = recordOf(step, keyframe, outcome, outcome.prediction.length / outcome.outputSize, policy);
  return { record, readBackMs: 0, buildMs: performance.now() - t0 };
}
