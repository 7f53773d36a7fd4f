// Turns a finished step into its record: one read-back of every captured tensor, summaries in
// JS, and the full values the capture policy's byte budget allows (the selected examples every
// step; whole batches and full parameters at keyframes).
import type { CapturePolicy, SampleRecord, StepRecord, TensorSummary, TensorValues } from '../../shared/traceTypes';
import type { CapturedTensor, StepOutcome } from '../tracer/stepScope';
import { summarize } from './summarize';

export const DEFAULT_CAPTURE: CapturePolicy = {
  summaries: true,
  sampleIndices: [0],
  keyframeEvery: 50,
  stepBudgetBytes: 256 * 1024,
  keyframeBudgetBytes: 8 * 1024 * 1024,
};

export function isKeyframe(step: number, steps: number, policy: CapturePolicy): boolean {
  if (step === 0 || step === steps - 1) return true;
  return policy.keyframeEvery > 0 && step % policy.keyframeEvery === 0;
}

function valuesOf(c: CapturedTensor): Float32Array {
  if (c.values) return c.values;
  const data = c.tensor!.dataSync();
  return data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>);
}

function rows(values: Float32Array, shape: number[], indices: number[]): Float32Array {
  const rowSize = values.length / shape[0];
  const out = new Float32Array(indices.length * rowSize);
  indices.forEach((r, k) => out.set(values.subarray(r * rowSize, (r + 1) * rowSize), k * rowSize));
  return out;
}

export interface BuildInput {
  step: number;
  keyframe: boolean;
  stepMs: number;
  policy: CapturePolicy;
  outcome: StepOutcome;
}

export function buildStepRecord({ step, keyframe, stepMs, policy, outcome }: BuildInput): StepRecord {
  const summaries: TensorSummary[] = [];
  const tensors: TensorValues[] = [];
  const batch = outcome.prediction.length / outcome.outputSize;
  const sampleIndices = policy.sampleIndices.filter((i) => i >= 0 && i < batch);
  let budget = keyframe ? policy.keyframeBudgetBytes : policy.stepBudgetBytes;
  const keep = (t: TensorValues): void => {
    const bytes = t.values.byteLength;
    if (bytes > budget) return;
    budget -= bytes;
    tensors.push(t);
  };

  const read = outcome.scope.captures.map((c) => ({ c, values: valuesOf(c) }));
  for (const { c, values } of read) {
    summaries.push({
      layer: c.layer,
      role: c.role,
      param: c.param,
      shape: c.shape,
      stats: policy.summaries ? summarize(values, c.role === 'activation' ? c.shape : undefined) : undefined,
    });
  }
  // The selected examples first: they are what the panel shows at every step.
  for (const { c, values } of read) {
    if (!c.perExample || sampleIndices.length === 0) continue;
    if (keyframe) {
      keep({ layer: c.layer, role: c.role, param: c.param, scope: 'batch', shape: c.shape, values });
    } else {
      keep({ layer: c.layer, role: c.role, param: c.param, scope: 'sample', sampleIndices, shape: [sampleIndices.length, ...c.shape.slice(1)], values: rows(values, c.shape, sampleIndices) });
    }
  }
  if (keyframe) {
    for (const { c, values } of read) {
      if (!c.perExample) keep({ layer: c.layer, role: c.role, param: c.param, scope: 'full', shape: c.shape, values });
    }
  }

  const samples: SampleRecord[] = sampleIndices.map((index) => ({
    index,
    target: Array.from(outcome.target.subarray(index * outcome.outputSize, (index + 1) * outcome.outputSize)),
    prediction: Array.from(outcome.prediction.subarray(index * outcome.outputSize, (index + 1) * outcome.outputSize)),
  }));

  return {
    step,
    loss: outcome.loss,
    accuracy: outcome.accuracy,
    stepMs,
    keyframe,
    summaries,
    tensors,
    samples,
  };
}

/** The first captured tensor, in phase order, holding NaN or ±Inf. */
export function firstNonFinite(record: StepRecord): TensorSummary | undefined {
  return record.summaries.find((s) => s.stats && s.stats.nanCount + s.stats.infCount > 0);
}
