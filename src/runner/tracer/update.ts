// The optimizer's update, with ΔW recorded: parameter values are read back before and after
// the optimizer applies its step (whatever the optimizer: SGD, momentum, Adam...).
import * as tf from '@tensorflow/tfjs';
import type { StepScope } from './stepScope';
import { ownedFloats } from '../ownedFloats';

export interface ParamGradient {
  layer: number;
  param: string;
  variable: tf.Variable;
  grad: tf.Tensor;
}

export function applyUpdate(optimizer: tf.Optimizer, grads: ParamGradient[], scope: StepScope): void {
  const before = scope.capturing ? grads.map((g) => ownedFloats(g.variable.dataSync())) : [];
  const named: Record<string, tf.Tensor> = {};
  for (const g of grads) named[g.variable.name] = g.grad;
  optimizer.applyGradients(named);
  if (!scope.capturing) return;
  grads.forEach((g, i) => {
    // ΔW = after − before is taken later, off the training thread (see capture/recordBuilder.ts).
    const after = ownedFloats(g.variable.dataSync());
    scope.recordValues(g.layer, 'param', g.param, g.variable.shape, after);
    scope.recordValues(g.layer, 'delta', g.param, g.variable.shape, after, before[i]);
  });
}
