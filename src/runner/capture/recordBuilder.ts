// Turns a finished step into its record, on the training thread, while its tensors are still on
// the backend: summaries read the backend's memory in place (no read-back copy), and only the
// values the byte budget keeps are copied out — the selected examples every step, whole batches
// and full parameters at keyframes. The capture worker then encodes and writes the record.
import type { CapturePolicy, SampleRecord, StepRecord, TensorSummary, TensorValues } from '../../shared/traceTypes';
import type { CapturedTensor, StepOutcome, StepScope } from '../tracer/stepScope';
import { peekFloats } from '../tensorFloats';
import { summarize } from './summarize';

export const DEFAULT_CAPTURE: CapturePolicy = {
  summaries: true,
  sampleIndices: [0],
  keyframeEvery: 50,
  stepBudgetBytes: 256 * 1024,
  keyframeBudgetBytes: 8 * 1024 * 1024,
  traceBudgetBytes: 512 * 1024 * 1024,
  keyframePrecision: 'exact',
};

export function isKeyframe(step: number, steps: number, policy: CapturePolicy): boolean {
  if (step === 0 || step === steps - 1) return true;
  return policy.keyframeEvery > 0 && step % policy.keyframeEvery === 0;
}

/** A step as the tracer left it: its outcome, and the tensors it captured, still on the backend. */
export interface FinishedStep {
  step: number;
  keyframe: boolean;
  batchSize: number;
  loss: number;
  accuracy?: number;
  /** A model with several outputs: each one's loss and accuracy. */
  outputLosses?: number[];
  outputAccuracies?: (number | undefined)[];
  /** Empty in a partial step (one held before its loss). */
  prediction: Float32Array;
  target: Float32Array;
  outputSize: number;
  captures: readonly CapturedTensor[];
}

/** A step's record without what only its caller knows: its time, the held-out metrics, its health. */
export type BuiltStep = Omit<StepRecord, 'stepMs' | 'testLoss' | 'testAccuracy' | 'health'>;

/** A finished step of the tracer, as the record is built from it. */
export function finishedStep(step: number, keyframe: boolean, batchSize: number, outcome: StepOutcome): FinishedStep {
  const { loss, accuracy, outputLosses, outputAccuracies, prediction, target, outputSize, scope } = outcome;
  const perOutput = outputLosses ? { outputLosses, outputAccuracies } : {};
  return { step, keyframe, batchSize, loss, accuracy, ...perOutput, prediction, target, outputSize, captures: scope.captures };
}

/** What a step held mid-way has computed so far: the phases up to where it is held. */
export function partialStep(step: number, batchSize: number, scope: StepScope): FinishedStep {
  const empty = new Float32Array(0);
  return { step, keyframe: false, batchSize, loss: scope.loss ?? NaN, prediction: empty, target: empty, outputSize: 1, captures: scope.captures };
}

/**
 * The buffers of a record's kept tensors, once each, for a zero-copy postMessage. Only arrays
 * that own their whole buffer: a view of the backend's memory must never be detached.
 */
export function transferList(record: StepRecord): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const t of record.tensors) {
    const { buffer, byteOffset, byteLength } = t.values;
    if (buffer instanceof ArrayBuffer && byteOffset === 0 && byteLength === buffer.byteLength) buffers.add(buffer);
  }
  return [...buffers];
}

function difference(values: Float32Array, baseline: Float32Array): Float32Array {
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i] - baseline[i];
  return out;
}

function rows(values: Float32Array, shape: number[], indices: number[]): Float32Array {
  const rowSize = values.length / shape[0];
  const out = new Float32Array(indices.length * rowSize);
  indices.forEach((r, k) => out.set(values.subarray(r * rowSize, (r + 1) * rowSize), k * rowSize));
  return out;
}

/** Summaries of every captured tensor, and the full values the byte budget allows. */
export function buildStepRecord(finished: FinishedStep, policy: CapturePolicy): BuiltStep {
  const { keyframe, outputSize } = finished;
  const summaries: TensorSummary[] = [];
  const tensors: TensorValues[] = [];
  const batch = finished.batchSize;
  const targetSize = finished.target.length / batch;
  const sampleIndices = policy.sampleIndices.filter((i) => i >= 0 && i < batch);
  let budget = keyframe ? policy.keyframeBudgetBytes : policy.stepBudgetBytes;
  const keep = (t: TensorValues): void => {
    const bytes = t.values.byteLength;
    if (bytes > budget) return;
    budget -= bytes;
    tensors.push(t);
  };
  // Views of the backend's memory, valid while no tfjs call runs: none does in here.
  const seen = (c: CapturedTensor): Float32Array => c.values ?? peekFloats(c.tensor!);
  // Owned copies, for what the record keeps (ΔW materialised only here, where it is kept).
  const owned = (c: CapturedTensor): Float32Array => (c.baseline ? difference(seen(c), c.baseline) : seen(c).slice());

  for (const c of finished.captures) {
    summaries.push({
      layer: c.layer,
      role: c.role,
      param: c.param,
      shape: c.shape,
      stats: policy.summaries ? summarize(seen(c), c.role === 'activation' ? c.shape : undefined, c.baseline) : undefined,
    });
  }
  // A keyframe keeps the parameters first (weights, ∂W, ΔW: what keyframes are for, and what a
  // mid-size model's budget must hold whole), then whole batches as far as the budget goes; the
  // trace's selected examples come out of those batches (traceWriter.ts). Ordinary steps keep the
  // selected examples, what the panel shows at every step.
  if (keyframe) {
    for (const c of finished.captures) {
      if (!c.perExample) keep({ layer: c.layer, role: c.role, param: c.param, scope: 'full', shape: c.shape, values: owned(c) });
    }
  }
  for (const c of finished.captures) {
    if (!c.perExample || sampleIndices.length === 0) continue;
    if (keyframe) {
      keep({ layer: c.layer, role: c.role, param: c.param, scope: 'batch', shape: c.shape, values: owned(c) });
    } else {
      keep({ layer: c.layer, role: c.role, param: c.param, scope: 'sample', sampleIndices, shape: [sampleIndices.length, ...c.shape.slice(1)], values: rows(seen(c), c.shape, sampleIndices) });
    }
  }

  const samples: SampleRecord[] = (finished.prediction.length === 0 ? [] : sampleIndices).map((index) => ({
    index,
    target: Array.from(finished.target.subarray(index * targetSize, (index + 1) * targetSize)),
    prediction: Array.from(finished.prediction.subarray(index * outputSize, (index + 1) * outputSize)),
  }));

  const { step, loss, accuracy, outputLosses } = finished;
  return { step, loss, accuracy, ...(outputLosses ? { outputLosses } : {}), keyframe, summaries, tensors, samples };
}
