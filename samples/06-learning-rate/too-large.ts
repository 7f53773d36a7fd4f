// Lesson 6 — Gradient descent and the learning rate (too-large.ts: rate 1).
// The simplest trainable model: one dense layer, 784 pixels → 10 scores, no activation, fitted
// to the one-hot targets by least squares. Weights start at exactly zero and every step uses the
// same 500 images (batchSize = all of them), so the only thing that differs between model.ts,
// too-large.ts and too-small.ts is the size of the step.
import * as tf from '@tensorflow/tfjs';
import { defineTraining } from 'gradient-lens';
import { loadFashionMnist } from 'gradient-lens/data';

const data = loadFashionMnist({ trainCount: 500, testCount: 500 });

const model = tf.sequential({
  layers: [tf.layers.dense({ inputShape: [784], units: 10, kernelInitializer: 'zeros' })],
});

export default defineTraining({
  name: 'Learning rate: too large',
  model,
  data,
  loss: 'meanSquaredError',
  optimizer: tf.train.sgd(1),
  batchSize: 500,
  steps: 60,
  seed: 6,
  evalEvery: 10,
  classNames: data.classNames,
});
