// The XOR truth table: the whole problem, all four cases. Output 1 when exactly one input is 1.
import * as tf from '@tensorflow/tfjs';

export const XOR_INPUTS = [
  [0, 0],
  [0, 1],
  [1, 0],
  [1, 1],
];
export const XOR_OUTPUTS = [0, 1, 1, 0];

/** Inputs [4, 2] and targets [4, 1]: 0/1, or −1/+1 for the perceptron. */
export function xorTable(targets: 'zeroOne' | 'signed'): { xs: tf.Tensor2D; ys: tf.Tensor2D } {
  const ys = XOR_OUTPUTS.map((y) => [targets === 'signed' ? 2 * y - 1 : y]);
  return { xs: tf.tensor2d(XOR_INPUTS), ys: tf.tensor2d(ys) };
}
