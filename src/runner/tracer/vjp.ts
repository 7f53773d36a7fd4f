import * as tf from '@tensorflow/tfjs';

/**
 * Vector-Jacobian product through tfjs autodiff: ∂(f · dy)/∂x for each x in `xs` (tensors or
 * variables). Used for layers whose backward the tracer does not write itself, and as the
 * reference the tests compare the hand-written backward passes against.
 */
export function vjp(f: () => tf.Tensor, xs: tf.Tensor[], dy: tf.Tensor): tf.Tensor[] {
  const engine = tf.engine() as unknown as {
    gradients(f: () => tf.Tensor, xs: tf.Tensor[], dy?: tf.Tensor, allowNoGradients?: boolean): { value: tf.Tensor; grads: tf.Tensor[] };
  };
  const { value, grads } = engine.gradients(f, xs, dy, true);
  value.dispose();
  return grads.map((g, i) => g ?? tf.zerosLike(xs[i]));
}
