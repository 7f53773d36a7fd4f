// The capture worker's first step is the run's first `stepDone`, the one a user waits for after
// Trace. Cold, the hand-over took a median of 54 ms (summaries, health, encoding, all run for the
// first time), while this thread sat idle as the training thread computed step 0. Building and
// encoding one small made-up record first, in that idle time, compiles the same code paths: 41 ms
// (lesson 1 from the CLI, ten runs each, alternated). Nothing is written.
import { layerHealth } from '../../shared/health';
import type { CopiedStep } from '../../shared/protocol';
import type { CapturePolicy, LayerInfo } from '../../shared/traceTypes';
import { encodeRecord } from '../../trace/recordCodec';
import { encodeKeyframe } from '../../trace/keyframeCodec';
import { buildStepRecord } from './recordBuilder';

const ROWS = 64;
const UNITS = 256;

/** Never throws: it is only a head start, and a failure here must not touch the run. */
export function warmUp(policy: CapturePolicy, layers: readonly LayerInfo[]): boolean {
  try {
    buildAndEncode(policy, layers);
    return true;
  } catch {
    return false;
  }
}

function buildAndEncode(policy: CapturePolicy, layers: readonly LayerInfo[]): void {
  const values = (n: number, scale: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i) * scale);
  const weights = values(ROWS * UNITS, 0.05);
  const step: CopiedStep = {
    step: 0,
    keyframe: true,
    batchSize: ROWS,
    loss: 1,
    prediction: values(ROWS * 2, 1),
    target: values(ROWS * 2, 1),
    outputSize: 2,
    captures: [
      { layer: 0, role: 'activation', shape: [ROWS, UNITS], perExample: true, values: values(ROWS * UNITS, 1).map(Math.abs) },
      { layer: 0, role: 'gradParam', param: 'kernel', shape: [ROWS, UNITS], perExample: false, values: values(ROWS * UNITS, 1e-3) },
      { layer: 0, role: 'delta', param: 'kernel', shape: [ROWS, UNITS], perExample: false, values: weights, baseline: values(ROWS * UNITS, 0.0501) },
    ],
  };
  const built = buildStepRecord(step, { ...policy, sampleIndices: [0] }, layers.length > 0 ? layers.slice(0, 1) : undefined);
  layerHealth(built.summaries, [...layers]);
  encodeRecord({ ...built, stepMs: 0 });
  encodeKeyframe(0, built.tensors.filter((t) => t.scope !== 'sample'), policy.keyframePrecision, false);
}
