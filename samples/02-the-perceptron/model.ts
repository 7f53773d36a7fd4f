// Lesson 2 — The neuron and the perceptron, from scratch.
// One artificial neuron, written with raw tf ops: a weight per pixel, a bias, a weighted sum.
// It learns to tell sneakers from ankle boots with Rosenblatt's perceptron rule.
import * as tf from '@tensorflow/tfjs';
import { defineTraining, tappedModel } from 'gradient-lens';
import type { Split } from 'gradient-lens';
import { loadFashionMnist } from 'gradient-lens/data';

// Real Fashion-MNIST images of two classes only: Sneaker (class 7) and Ankle boot (class 9).
const data = loadFashionMnist({ classes: [7, 9], trainCount: 1000, testCount: 190 });

// The perceptron's targets are −1 (sneaker) and +1 (ankle boot): the second one-hot column, ×2, −1.
const signed = (split: Split): Split => ({
  xs: split.xs,
  ys: split.ys.slice([0, 1], [-1, 1]).mul(2).sub(1),
});

// 784 weights and 1 bias. Tiny random weights: with exactly zero weights every score would be 0,
// and the rule below never updates on a score of exactly 0.
const w = tf.variable(tf.randomNormal([784, 1], 0, 0.01));
const b = tf.variable(tf.zeros([1]));

const neuron = tappedModel({
  name: 'Perceptron (one neuron)',
  inputShape: [784],
  forward(x, tap) {
    // The weighted sum z = w·x + b. The neuron's answer is the sign of z: +1 ankle boot, −1 sneaker.
    return tap('z = w·x + b', x.matMul(w).add(b), { role: 'preactivation', params: { w, b } });
  },
});

export default defineTraining({
  name: 'The perceptron',
  model: neuron,
  data: { train: signed(data.train), test: signed(data.test) },
  // mean(max(0, −y·z)): zero for a correct answer, |z| for a wrong one. Plain SGD on it moves w by
  // learningRate · y · x for every misclassified image — the perceptron rule.
  loss: 'perceptron',
  optimizer: tf.train.sgd(1),
  batchSize: 20,
  steps: 300,
  seed: 2,
  evalEvery: 10,
});
