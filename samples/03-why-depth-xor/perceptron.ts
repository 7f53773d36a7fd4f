// Lesson 3, part 1 — a single perceptron cannot compute XOR.
// The neuron of lesson 2, now with two inputs, trained with the perceptron rule on XOR's four cases.
import * as tf from '@tensorflow/tfjs';
import { defineTraining, tappedModel } from 'gradient-lens';
import { xorTable } from './xor';

const table = xorTable('signed');
const w = tf.variable(tf.randomNormal([2, 1], 0, 0.1));
const b = tf.variable(tf.zeros([1]));

const neuron = tappedModel({
  name: 'Perceptron on XOR',
  inputShape: [2],
  forward(x, tap) {
    return tap('z = w·x + b', x.matMul(w).add(b), { role: 'preactivation', params: { w, b } });
  },
});

export default defineTraining({
  name: 'XOR: one perceptron',
  model: neuron,
  data: { train: table, test: table },
  loss: 'perceptron',
  optimizer: tf.train.sgd(0.1),
  batchSize: 4,
  steps: 200,
  seed: 3,
  evalEvery: 10,
});
