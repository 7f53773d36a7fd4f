// The optimizer's update, with ΔW recorded: parameter values are read before the optimizer
// applies its step (whatever the optimizer: SGD, momentum, Adam...) and compared with the
// variables after it when the step's record is built (capture/recordBuilder.ts).
import * as tf from '@tensorflow/tfjs';
import type { StepScope } from './stepScope';
import { floatsInto } from '../tensorFloats';

export interface ParamGradient {
  layer: number;
  param: string;
  variable: tf.Variable;
  grad: tf.Tensor;
}

/**
 * Each variable's values before the update, in one array reused step after step: the record is
 * built from it before the next step's update (the summaries read it; a keyframe's ΔW is a new
 * array), so nothing keeps it. A fresh 1 MB a step was most of the capture's garbage.
 */
const before = new WeakMap<tf.Variable, Float32Array>();

export function applyUpdate(optimizer: tf.Optimizer, grads: ParamGradient[], scope: StepScope): void {
  if (scope.capturing) for (const g of grads) before.set(g.variable, floatsInto(g.variable, before.get(g.variable)));
  const named: Record<string, tf.Tensor> = {};
  for (const g of grads) named[g.variable.name] = g.grad;
  optimizer.applyGradients(named);
  if (!scope.capturing) return;
  for (const g of grads) scope.recordUpdate(g.layer, g.param, g.variable, before.get(g.variable)!);
}
