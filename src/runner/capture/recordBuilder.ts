// Turns a step's copied-out tensors into its record: every summary, and only the values the byte
// budget keeps — the selected examples every step, whole batches and full parameters at
// keyframes. Runs in the capture worker from the step's copies, and on the training thread from
// views of the backend's memory when the worker is still busy with the step before
// (CapturePipeline.take) and for a held step's partial record. It calls no tfjs, so the worker
// needs none.
import type { CopiedStep, CopiedTensor } from '../../shared/protocol';
import { showsDeadUnits } from '../../shared/health';
import type { CapturePolicy, LayerInfo, SampleRecord, StepRecord, TensorSummary, TensorValues } from '../../shared/traceTypes';
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

/** A step's record without what only its caller knows: its time, the held-out metrics, its health. */
export type BuiltStep = Omit<StepRecord, 'stepMs' | 'testLoss' | 'testAccuracy' | 'health'>;

/** The buffers of a record's kept tensors, once each, that own their whole buffer. */
export function recordTransferList(record: BuiltStep): ArrayBuffer[] {
  return ownedBuffers(record.tensors.map((t) => t.values));
}

/**
 * The buffers of a copied step's tensors, once each, for a zero-copy postMessage. Only arrays
 * that own their whole buffer: a view of someone else's memory must never be detached.
 */
export function transferList(step: CopiedStep): ArrayBuffer[] {
  return ownedBuffers(step.captures.flatMap((c) => (c.baseline ? [c.values, c.baseline] : [c.values])));
}

function ownedBuffers(arrays: Float32Array[]): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const { buffer, byteOffset, byteLength } of arrays) {
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

/**
 * Summaries of every captured tensor, and the full values the byte budget allows. `layers`: the
 * model's, so that only the activations of layers whose units can be dead get a dead fraction
 * (all do without it). The step's values are its own copies (stepCopy.ts copyOut): the record
 * keeps them as they are.
 */
export function buildStepRecord(finished: CopiedStep, policy: CapturePolicy, layers?: readonly LayerInfo[]): BuiltStep {
  return buildRecord(finished, policy, layers, false);
}

/**
 * The same from views of the backend's memory (stepCopy.ts viewOut), read in place: what the
 * record keeps is copied out of them.
 */
export function buildStepRecordInPlace(viewed: CopiedStep, policy: CapturePolicy, layers?: readonly LayerInfo[]): BuiltStep {
  return buildRecord(viewed, policy, layers, true);
}

function buildRecord(finished: CopiedStep, policy: CapturePolicy, layers: readonly LayerInfo[] | undefined, views: boolean): BuiltStep {
  const { keyframe, outputSize } = finished;
  const deadUnitsMeanSomething = (layer: number): boolean => {
    const info = layers?.[layer];
    return info === undefined || showsDeadUnits(info);
  };
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
  // Copies are this step's own, so the record keeps them as they are; views are copied (ΔW is
  // materialised only here, where it is kept).
  const kept = (c: CopiedTensor): Float32Array => (c.baseline ? difference(c.values, c.baseline) : views ? c.values.slice() : c.values);

  for (const c of finished.captures) {
    summaries.push({
      layer: c.layer,
      role: c.role,
      param: c.param,
      shape: c.shape,
      stats: policy.summaries ? summarize(c.values, c.role === 'activation' && deadUnitsMeanSomething(c.layer) ? c.shape : undefined, c.baseline) : undefined,
    });
  }
  // A keyframe keeps the parameters first (weights, ∂W, ΔW: what keyframes are for, and what a
  // mid-size model's budget must hold whole), then whole batches as far as the budget goes; the
  // trace's selected examples come out of those batches (traceWriter.ts). Ordinary steps keep the
  // selected examples, what the panel shows at every step.
  if (keyframe) {
    for (const c of finished.captures) {
      if (!c.perExample) keep({ layer: c.layer, role: c.role, param: c.param, scope: 'full', shape: c.shape, values: kept(c) });
    }
  }
  for (const c of finished.captures) {
    if (!c.perExample || sampleIndices.length === 0) continue;
    if (keyframe) {
      keep({ layer: c.layer, role: c.role, param: c.param, scope: 'batch', shape: c.shape, values: kept(c) });
    } else {
      keep({ layer: c.layer, role: c.role, param: c.param, scope: 'sample', sampleIndices, shape: [sampleIndices.length, ...c.shape.slice(1)], values: rows(c.values, c.shape, sampleIndices) });
    }
  }

  // A held step's partial record has the targets before the loss phase has predictions for them.
  const samples: SampleRecord[] = (finished.target.length === 0 ? [] : sampleIndices).map((index) => ({
    index,
    target: Array.from(finished.target.subarray(index * targetSize, (index + 1) * targetSize)),
    prediction: Array.from(finished.prediction.subarray(index * outputSize, (index + 1) * outputSize)),
  }));

  const { step, loss, accuracy, outputLosses } = finished;
  return { step, loss, accuracy, ...(outputLosses ? { outputLosses } : {}), keyframe, summaries, tensors, samples };
}
