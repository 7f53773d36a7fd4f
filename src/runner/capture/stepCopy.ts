// The training thread's part of the capture: a finished step's captured tensors copied out of the
// backend while they are still there, one memcpy each, for the capture worker to summarise and
// build the record from while this thread trains on. Measured on the seed MLP (batch 64): copying
// W, ∂W and ΔW's baseline costs ≈ 0.1 ms each, summarising each in place ≈ 0.5 ms.
import type { CopiedStep, CopiedTensor } from '../../shared/protocol';
import type { CapturedTensor, StepOutcome, StepScope } from '../tracer/stepScope';
import type * as tf from '@tensorflow/tfjs';
import { floatsInto, peekFloats } from '../tensorFloats';

/** A step as the tracer left it: its outcome, and the tensors it captured, still on the backend. */
export interface FinishedStep extends Omit<CopiedStep, 'captures'> {
  captures: readonly CapturedTensor[];
}

/** A finished step of the tracer, as its tensors are copied out. */
export function finishedStep(step: number, keyframe: boolean, batchSize: number, outcome: StepOutcome): FinishedStep {
  const { loss, accuracy, outputLosses, prediction, target, outputSize, scope } = outcome;
  return { step, keyframe, batchSize, loss, accuracy, ...(outputLosses ? { outputLosses } : {}), prediction, target, outputSize, captures: scope.captures };
}

/**
 * What a step held mid-way has computed so far: the phases up to where it is held. The batch's
 * targets are known from the start (`target`: the first output's), its predictions from the loss
 * phase on.
 */
export function partialStep(step: number, batchSize: number, scope: StepScope, target: tf.Tensor): FinishedStep {
  const done = scope.lossPhase;
  const prediction = done ? floatsInto(done.prediction, undefined) : new Float32Array(0);
  const outputSize = done ? (done.prediction.shape[done.prediction.shape.length - 1] ?? 1) : 1;
  return { step, keyframe: false, batchSize, loss: done?.loss ?? NaN, accuracy: done?.accuracy, prediction, target: floatsInto(target, undefined), outputSize, captures: scope.captures };
}

/**
 * The step with every captured tensor copied into an array of its own (transferable). A tensor
 * captured twice — a weight, as itself and as ΔW's "after" — is copied once. Call it before the
 * step's scope is disposed and before any other tfjs call: the backend's memory is read in place.
 * `floats` gives the arrays to copy into (CapturePipeline.floats reuses the worker's returns).
 */
export function copyOut(finished: FinishedStep, floats: (length: number) => Float32Array = (n) => new Float32Array(n)): CopiedStep {
  const copies = new Map<object, Float32Array>();
  const copyOf = (key: object, read: () => Float32Array): Float32Array => {
    let copy = copies.get(key);
    if (!copy) {
      const values = read();
      copy = floats(values.length);
      copy.set(values);
      copies.set(key, copy);
    }
    return copy;
  };
  const captures = finished.captures.map(({ tensor, baseline, ...described }): CopiedTensor => ({
    ...described,
    values: copyOf(tensor, () => peekFloats(tensor)),
    // The optimizer's "before" array is reused step after step (update.ts): the worker gets a copy.
    ...(baseline ? { baseline: copyOf(baseline, () => baseline) } : {}),
  }));
  return { ...finished, captures };
}

/**
 * The step with its values as views of the backend's memory, not copies: for building the record
 * here, at once (the training thread does when the capture worker is behind). Valid only until
 * the next tfjs call; never posted or kept (buildStepRecordInPlace copies what it keeps).
 */
export function viewOut(finished: FinishedStep): CopiedStep {
  const captures = finished.captures.map(({ tensor, ...described }): CopiedTensor => ({ ...described, values: peekFloats(tensor) }));
  return { ...finished, captures };
}
