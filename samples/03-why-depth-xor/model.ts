// Lesson 3, part 2 — one hidden layer solves XOR.
// 2 inputs → 4 hidden tanh units → 1 sigmoid output (the probability that the answer is 1).
import * as tf from '@tensorflow/tfjs';
import { defineTraining } from 'gradient-lens';
import { xorTable } from './xor';

const table = xorTable('zeroOne');

const model = tf.sequential({
  layers: [
    tf.layers.dense({ inputShape: [2], units: 4, activation: 'tanh' }),
    tf.layers.dense({ units: 1, activation: 'sigmoid' }),
  ],
});

export default defineTraining({
  name: 'XOR: one hidden layer',
  model,
  data: { train: table, test: table },
  loss: 'binaryCrossentropy',
  optimizer: tf.train.adam(0.05),
  batchSize: 4,
  steps: 200,
  seed: 3,
  evalEvery: 10,
});
