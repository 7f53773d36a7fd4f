// Turns a finished step's capture (read back by readBack.ts on the training thread) into its
// record, in the capture worker: summaries in JS, and the full values the byte budget allows —
// the selected examples every step, whole batches and full parameters at keyframes.
import type { CapturePolicy, SampleRecord, StepRecord, TensorSummary, TensorValues } from '../../shared/traceTypes';
import type { CapturedTensor } from '../tracer/stepScope';
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

/** One captured tensor, read back: plain data that can cross to the capture worker. */
export interface ReadCapture {
  layer: number;
  role: CapturedTensor['role'];
  param?: string;
  shape: number[];
  perExample: boolean;
  values: Float32Array;
  /** When set, the captured quantity is `values − baseline`. */
  baseline?: Float32Array;
}

/** A finished step, read back from the backend: everything the record is built from. */
export interface StepCapture {
  step: number;
  keyframe: boolean;
  stepMs: number;
  loss: number;
  accuracy?: number;
  testLoss?: number;
  testAccuracy?: number;
  batchSize: number;
  /** Empty in a partial capture (a step held before its loss). */
  prediction: Float32Array;
  target: Float32Array;
  outputSize: number;
  captures: ReadCapture[];
}

/** The buffers of a capture, once each, for a zero-copy postMessage. */
export function transferList(capture: StepCapture): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const c of capture.captures) {
    buffers.add(c.values.buffer as ArrayBuffer);
    if (c.baseline) buffers.add(c.baseline.buffer as ArrayBuffer);
  }
  buffers.add(capture.prediction.buffer as ArrayBuffer);
  buffers.add(capture.target.buffer as ArrayBuffer);
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
export function buildStepRecord(capture: StepCapture, policy: CapturePolicy): StepRecord {
  const { keyframe, outputSize } = capture;
  const summaries: TensorSummary[] = [];
  const tensors: TensorValues[] = [];
  const batch = capture.batchSize;
  const targetSize = capture.target.length / batch;
  const sampleIndices = policy.sampleIndices.filter((i) => i >= 0 && i < batch);
  let budget = keyframe ? policy.keyframeBudgetBytes : policy.stepBudgetBytes;
  const keep = (t: TensorValues): void => {
    const bytes = t.values.byteLength;
    if (bytes > budget) return;
    budget -= bytes;
    tensors.push(t);
  };

  for (const c of capture.captures) {
    summaries.push({
      layer: c.layer,
      role: c.role,
      param: c.param,
      shape: c.shape,
      stats: policy.summaries ? summarize(c.values, c.role === 'activation' ? c.shape : undefined, c.baseline) : undefined,
    });
  }
  // Differences (ΔW) are materialised only where their full values are kept: at keyframes. (A
  // getter destructured in the loop head ran for every capture, every step: 1 MB a step of ΔW
  // built and thrown away, measured in bench/ as ~3 ms of buildStepRecord beyond its summaries.)
  const valuesOf = (c: ReadCapture): Float32Array => (c.baseline ? difference(c.values, c.baseline) : c.values);
  // A keyframe keeps the parameters first (weights, ∂W, ΔW: what keyframes are for, and what a
  // mid-size model's budget must hold whole), then whole batches as far as the budget goes; the
  // trace's selected examples come out of those batches (traceWriter.ts). Ordinary steps keep the
  // selected examples, what the panel shows at every step.
  if (keyframe) {
    for (const c of capture.captures) {
      if (!c.perExample) keep({ layer: c.layer, role: c.role, param: c.param, scope: 'full', shape: c.shape, values: valuesOf(c) });
    }
  }
  for (const c of capture.captures) {
    if (!c.perExample || sampleIndices.length === 0) continue;
    if (keyframe) {
      keep({ layer: c.layer, role: c.role, param: c.param, scope: 'batch', shape: c.shape, values: valuesOf(c) });
    } else {
      keep({ layer: c.layer, role: c.role, param: c.param, scope: 'sample', sampleIndices, shape: [sampleIndices.length, ...c.shape.slice(1)], values: rows(valuesOf(c), c.shape, sampleIndices) });
    }
  }

  const samples: SampleRecord[] = (capture.prediction.length === 0 ? [] : sampleIndices).map((index) => ({
    index,
    target: Array.from(capture.target.subarray(index * targetSize, (index + 1) * targetSize)),
    prediction: Array.from(capture.prediction.subarray(index * outputSize, (index + 1) * outputSize)),
  }));

  return {
    step: capture.step,
    loss: capture.loss,
    accuracy: capture.accuracy,
    testLoss: capture.testLoss,
    testAccuracy: capture.testAccuracy,
    stepMs: capture.stepMs,
    keyframe,
    summaries,
    tensors,
    samples,
  };
}
