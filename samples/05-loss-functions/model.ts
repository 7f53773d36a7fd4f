// Lesson 5 — Loss functions: cross-entropy (this file) vs squared error (squared-error.ts).
// The same small classifier and the same data; only the loss differs.
import * as tf from '@tensorflow/tfjs';
import { defineTraining } from 'gradient-lens';
import { loadFashionMnist } from 'gradient-lens/data';

const data = loadFashionMnist({ trainCount: 2000, testCount: 500 });

const model = tf.sequential({
  layers: [
    tf.layers.dense({ inputShape: [784], units: 64, activation: 'relu' }),
    tf.layers.dense({ units: 10, activation: 'softmax' }),
  ],
});

export default defineTraining({
  name: 'Loss functions: cross-entropy',
  model,
  data,
  loss: 'categoricalCrossentropy',
  optimizer: tf.train.sgd(0.1),
  batchSize: 64,
  steps: 150,
  seed: 5,
  evalEvery: 15,
  classNames: data.classNames,
});
