// A tensor's values as a Float32Array the caller owns. Shared by the tracer (weights before and
// after the update) and the capture (every read-back), so neither imports the other.
import * as tf from '@tensorflow/tfjs';

/**
 * The cpu backend's dataSync hands out its own storage, which must not move; wasm and tfjs-node
 * return a fresh copy already, which need not be copied again.
 */
export function ownedFloats(data: ArrayLike<number>): Float32Array {
  if (!(data instanceof Float32Array)) return Float32Array.from(data);
  return tf.getBackend() === 'cpu' ? data.slice() : data;
}
