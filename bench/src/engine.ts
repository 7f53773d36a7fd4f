// The capture calls the benchmarks make, as the runner makes them: the one read-back on the
// training thread (readBack), then the record (buildStepRecord, in the capture worker in the
// runner). Typed against the engine, so an API change fails the type-check, not the numbers.
import { readBack } from '../../src/runner/capture/readBack';
import { DEFAULT_CAPTURE, buildStepRecord, type StepCapture } from '../../src/runner/capture/recordBuilder';
import type { StepOutcome } from '../../src/runner/tracer/stepScope';
import type { CapturePolicy, StepRecord } from '../../src/shared/traceTypes';

export const CAPTURE_API = 'split' as const;

export interface BuiltRecord {
  record: StepRecord;
  /** The part that runs on the training thread (the read-back). */
  readBackMs: number;
  /** The part that runs in the capture worker (summaries, kept tensors). */
  buildMs: number;
}

/** The read-back the runner's session does after each step. */
export function readBackCapture(step: number, keyframe: boolean, outcome: StepOutcome, batchSize: number): StepCapture {
  return { ...readBack(step, keyframe, batchSize, outcome), stepMs: 0 };
}

/** Read-back and record, both on this thread, each timed. */
export function buildRecord(step: number, keyframe: boolean, outcome: StepOutcome, policy: CapturePolicy = DEFAULT_CAPTURE): BuiltRecord {
  const t0 = performance.now();
  const capture = readBackCapture(step, keyframe, outcome, outcome.prediction.length / outcome.outputSize);
  const t1 = performance.now();
  const record = buildStepRecord(capture, policy);
  return { record, readBackMs: t1 - t0, buildMs: performance.now() - t1 };
}
