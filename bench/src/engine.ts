// The capture calls the benchmarks make, against the engine as it stands: buildStepRecord takes
// either the finished step ({ step, keyframe, stepMs, policy, outcome }) or, where the read-back
// was split from the record building (readBack on the training thread, buildStepRecord in the
// capture worker), a read-back capture and the policy. Both are timed the same way: all of the
// capture's work, on this thread.
import * as recordBuilder from '../../src/runner/capture/recordBuilder';
import * as readBackModule from '../../src/runner/capture/readBack';
import type { StepOutcome } from '../../src/runner/tracer/stepScope';
import type { StepRecord } from '../../src/shared/traceTypes';

const { DEFAULT_CAPTURE } = recordBuilder;
type Fn = (...args: unknown[]) => unknown;
const api = recordBuilder as unknown as Record<string, Fn | undefined>;
const readBackFn = (readBackModule as unknown as Record<string, Fn | undefined>).readBack ?? api.readBack;
const buildFn = api.buildStepRecord as Fn;

/** 'split': readBack + buildStepRecord(capture, policy); 'single': buildStepRecord(input). */
export const CAPTURE_API: 'split' | 'single' = typeof readBackFn === 'function' ? 'split' : 'single';

export interface BuiltRecord {
  record: StepRecord;
  /** The part that must run on the training thread (the read-back), when the engine splits it. */
  readBackMs: number;
  buildMs: number;
}

/** The engine's readBack, whatever its arity: (step, keyframe, stepMs, outcome) or (step, keyframe, stepMs, batchSize, outcome). */
export function readBackCapture(step: number, keyframe: boolean, outcome: StepOutcome, batchSize: number): unknown {
  if (!readBackFn) throw new Error('this engine has no readBack (capture is built on the finished step)');
  return readBackFn.length >= 5 ? readBackFn(step, keyframe, 0, batchSize, outcome) : readBackFn(step, keyframe, 0, outcome);
}

export function buildRecord(step: number, keyframe: boolean, outcome: StepOutcome, policy = DEFAULT_CAPTURE): BuiltRecord {
  const t0 = performance.now();
  if (readBackFn) {
    const capture = readBackCapture(step, keyframe, outcome, outcome.prediction.length / outcome.outputSize);
    const t1 = performance.now();
    const record = buildFn(capture, policy) as StepRecord;
    return { record, readBackMs: t1 - t0, buildMs: performance.now() - t1 };
  }
  const record = buildFn({ step, keyframe, stepMs: 0, policy, outcome }) as StepRecord;
  return { record, readBackMs: 0, buildMs: performance.now() - t0 };
}
