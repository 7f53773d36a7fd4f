import type { TrainingSpec } from '../api/index';
import type { StartRequest } from '../shared/protocol';
import type { CapturePolicy, RunConfig } from '../shared/traceTypes';
import { DEFAULT_CAPTURE } from './capture/recordBuilder';

export const DEFAULT_SEED = 42;

/** About this many keyframes a run (full weights for the heatmaps), and never fewer than one per 50 steps. */
const KEYFRAMES_PER_RUN = 10;
const MAX_KEYFRAME_GAP = 50;

/**
 * Bytes a keyframe needs per parameter: the weights, ∂L/∂W and ΔW as float32 (12), and as much
 * again for whole-batch activations. Keyframes are compressed and bounded by the run's byte
 * budget (traceWriter.ts), so a per-keyframe budget that scales to the model cannot fill a disk.
 */
const KEYFRAME_BYTES_PER_PARAM = 24;

/** The per-keyframe budget: the one the file or the caller set, else the default or more for a model that needs it. */
export function keyframeBudgetFor(capture: CapturePolicy, setByUser: boolean, paramCount: number): number {
  if (setByUser) return capture.keyframeBudgetBytes;
  return Math.max(capture.keyframeBudgetBytes, paramCount * KEYFRAME_BYTES_PER_PARAM);
}

/** What the run will do: the user's spec, then the caller's overrides, then defaults. */
export function resolveConfig(spec: TrainingSpec, lossName: string, seed: number, overrides: StartRequest['overrides'] = {}): RunConfig {
  const steps = overrides.steps ?? spec.steps ?? 100;
  const opt = spec.optimizer as unknown as { getClassName?(): string; learningRate?: number };
  return {
    batchSize: overrides.batchSize ?? spec.batchSize ?? 32,
    steps,
    seed,
    loss: lossName,
    optimizer: opt?.getClassName?.() ?? 'optimizer',
    learningRate: typeof opt?.learningRate === 'number' ? opt.learningRate : undefined,
    evalEvery: overrides.evalEvery ?? spec.evalEvery ?? Math.max(1, Math.round(steps / 10)),
    capture: {
      ...DEFAULT_CAPTURE,
      keyframeEvery: Math.max(1, Math.min(MAX_KEYFRAME_GAP, Math.round(steps / KEYFRAMES_PER_RUN))),
      ...spec.capture,
      ...overrides.capture,
    },
  };
}
