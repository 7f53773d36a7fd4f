// Tensor lifetimes across one traced step. Each phase runs in a tf.tidy; whatever must outlive
// it (a layer's output, what its backward pass needs, what the capture will read) is kept here,
// and everything kept is freed when the step ends.
import * as tf from '@tensorflow/tfjs';
import type { PhaseStop } from '../../shared/phases';
import type { TensorRole } from '../../shared/traceTypes';
import { floatsInto } from '../tensorFloats';

/** A tensor the step wants recorded: still on the backend, or already read back. */
export interface CapturedTensor {
  layer: number;
  role: TensorRole;
  param?: string;
  shape: number[];
  /** True when the first dimension is the batch (so single examples can be cut out). */
  perExample: boolean;
  tensor: tf.Tensor;
  /** When set, the captured quantity is `tensor − baseline` (ΔW: after − before the update). */
  baseline?: Float32Array;
}

const PARAMETER_ROLES = new Set<TensorRole>(['gradParam', 'param', 'delta']);

export class StepScope {
  private readonly kept: tf.Tensor[] = [];
  readonly captures: CapturedTensor[] = [];
  /**
   * The loss phase's outcome, once it has run: what a step held after it shows (its loss, and the
   * selected examples' predictions against their targets). The prediction (the first output's) is
   * kept on the backend by the step and read back only if the step is held.
   */
  lossPhase?: { loss: number; accuracy?: number; prediction: tf.Tensor };

  /** `borrowed`: the batch and other tensors the caller owns; kept alive, never freed here. */
  constructor(
    readonly capturing: boolean,
    private readonly borrowed: readonly tf.Tensor[] = [],
  ) {}

  keep = <T extends tf.Tensor>(t: T): T => {
    tf.keep(t);
    if (!this.borrowed.includes(t)) this.kept.push(t);
    return t;
  };

  /** A capture sink bound to a layer. */
  sinkFor(layer: number) {
    return (role: TensorRole, tensor: tf.Tensor, param?: string) => {
      if (!this.capturing) return;
      const perExample = !PARAMETER_ROLES.has(role);
      this.captures.push({ layer, role, param, shape: tensor.shape, perExample, tensor: this.keep(tensor) });
    };
  }

  /**
   * A parameter after the update (the variable itself, read when the record is built; the step
   * does not own it) and its change, `variable − before`.
   */
  recordUpdate(layer: number, param: string, variable: tf.Variable, before: Float32Array): void {
    this.captures.push({ layer, role: 'param', param, shape: variable.shape, perExample: false, tensor: variable });
    this.captures.push({ layer, role: 'delta', param, shape: variable.shape, perExample: false, tensor: variable, baseline: before });
  }

  dispose(): void {
    for (const t of this.kept) if (!t.isDisposed) t.dispose();
    this.kept.length = 0;
  }
}

/** What a finished step hands back to the session. */
export interface StepOutcome {
  loss: number;
  accuracy?: number;
  /** Predictions and targets of the batch, read back (small: batch × outputs). */
  prediction: Float32Array;
  target: Float32Array;
  outputSize: number;
  scope: StepScope;
  /** A model with several outputs: each one's loss and accuracy (the predictions above are the first output's). */
  outputLosses?: number[];
  outputAccuracies?: (number | undefined)[];
}

export type StepGenerator = Generator<PhaseStop, StepOutcome, void>;

/** A finished step's outcome: its loss and accuracy, and the batch's predictions and targets read back. */
export function stepOutcome(loss: number, accuracy: number | undefined, prediction: tf.Tensor, ys: tf.Tensor, scope: StepScope): StepOutcome {
  return {
    loss,
    accuracy,
    // Owned float32 arrays, whatever the dtype: targets are often int32 (tf.oneHot's, integer labels).
    prediction: floatsInto(prediction, undefined),
    target: floatsInto(ys, undefined),
    outputSize: prediction.shape[prediction.shape.length - 1] ?? 1,
    scope,
  };
}
