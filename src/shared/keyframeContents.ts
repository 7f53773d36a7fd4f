// What a keyframe holds and what it lacks, for the CLI's `show` and the panel alike: a keyframe
// keeps every captured tensor in full unless its per-keyframe budget ran out (or the trace's
// budget thinned the whole keyframe out).
import type { StepRecord, TensorSummary } from './traceTypes';

const key = (t: { layer: number; role: string; param?: string }): string => `${t.layer}/${t.role}/${t.param ?? ''}`;

/** The captured tensors a keyframe has no full values of; undefined for an ordinary step. */
export function missingFromKeyframe(record: StepRecord): TensorSummary[] | undefined {
  if (!record.keyframe) return undefined;
  const held = new Set(record.tensors.filter((t) => t.scope !== 'sample').map(key));
  return record.summaries.filter((s) => !held.has(key(s)));
}

/** The nearest step at or before `step` with full tensors, from a sorted list; -1 when none. */
export function keyframeAtOrBefore(steps: readonly number[], step: number): number {
  let lo = 0;
  let hi = steps.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (steps[mid] <= step) {
      found = steps[mid];
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}
