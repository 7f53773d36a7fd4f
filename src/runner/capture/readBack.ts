// The training thread's part of capture: one read-back of every tensor a step captured, into
// plain arrays the capture worker can take over (recordBuilder.ts builds the record from them).
import type { StepOutcome, StepScope } from '../tracer/stepScope';
import { ownedFloats } from '../ownedFloats';
import type { ReadCapture, StepCapture } from './recordBuilder';

function readCaptures(scope: StepScope): ReadCapture[] {
  return scope.captures.map((c) => ({
    layer: c.layer,
    role: c.role,
    param: c.param,
    shape: c.shape,
    perExample: c.perExample,
    values: c.values ?? ownedFloats(c.tensor!.dataSync() as ArrayLike<number>),
    baseline: c.baseline,
  }));
}

/** The one read-back of a step's captured tensors, on the training thread. */
/** A finished step read back; the caller adds how long it took (the read-back is part of it). */
export function readBack(step: number, keyframe: boolean, batchSize: number, outcome: StepOutcome): Omit<StepCapture, 'stepMs'> {
  return {
    step,
    keyframe,
    batchSize,
    loss: outcome.loss,
    accuracy: outcome.accuracy,
    ...(outcome.outputLosses ? { outputLosses: outcome.outputLosses, outputAccuracies: outcome.outputAccuracies } : {}),
    prediction: ownedFloats(outcome.prediction),
    target: ownedFloats(outcome.target),
    outputSize: outcome.outputSize,
    captures: readCaptures(outcome.scope),
  };
}

/** What a step held mid-way has computed so far: the phases up to where it is held. */
export function readPartial(step: number, batchSize: number, scope: StepScope): StepCapture {
  const empty = new Float32Array(0);
  return { step, keyframe: false, stepMs: 0, batchSize, loss: scope.loss ?? NaN, prediction: empty, target: empty, outputSize: 1, captures: readCaptures(scope) };
}

