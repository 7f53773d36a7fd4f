// Backward passes of activation functions: the common ones in closed form (cheap elementwise
// ops every backend has), any other through tfjs autodiff of the activation itself.
import * as tf from '@tensorflow/tfjs';
import { vjp } from './vjp';
import type { CaptureSink } from './traceableLayer';

export interface ActivationFn {
  name: string;
  apply(z: tf.Tensor): tf.Tensor;
}

/** The activation object of a tfjs layer (Dense, Conv2D, Activation), as a plain function. */
export function layerActivation(layer: tf.layers.Layer): ActivationFn | undefined {
  const act = (layer as unknown as { activation?: { apply(t: tf.Tensor): tf.Tensor; getClassName(): string } }).activation;
  if (!act) return undefined;
  return { name: act.getClassName().toLowerCase(), apply: (z) => act.apply(z) };
}

/** ∂L/∂z from ∂L/∂a, where a = act(z). */
export function activationBackward(act: ActivationFn | undefined, z: tf.Tensor, a: tf.Tensor, dA: tf.Tensor): tf.Tensor {
  switch (act?.name ?? 'linear') {
    case 'linear':
      return dA;
    case 'relu':
      return tf.mul(dA, tf.step(z));
    case 'sigmoid':
      return tf.mul(dA, tf.mul(a, tf.sub(1, a)));
    case 'tanh':
      return tf.mul(dA, tf.sub(1, tf.square(a)));
    case 'softmax': {
      const dot = tf.sum(tf.mul(dA, a), -1, true);
      return tf.mul(a, tf.sub(dA, dot));
    }
    default:
      return vjp(() => act!.apply(z), [z], dA)[0];
  }
}

/** a = act(z), recorded; the pre-activation is recorded only when the activation changes it. */
export function applyActivation(act: ActivationFn | undefined, z: tf.Tensor, capture: CaptureSink): tf.Tensor {
  const a = act && act.name !== 'linear' ? act.apply(z) : z;
  if (a !== z) capture('preactivation', z);
  capture('activation', a);
  return a;
}

/** ∂L/∂z from ∂L/∂a, both recorded (∂L/∂z only when it differs). */
export function backThroughActivation(act: ActivationFn | undefined, z: tf.Tensor, a: tf.Tensor, dA: tf.Tensor, capture: CaptureSink): tf.Tensor {
  const dZ = activationBackward(act, z, a, dA);
  capture('gradActivation', dA);
  if (dZ !== dA) capture('gradPreactivation', dZ);
  return dZ;
}
