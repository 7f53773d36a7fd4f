// Lesson 9, part 2 — SGD with momentum: a velocity that keeps 90% of the previous step and adds
// the new gradient, so steps grow along directions the gradients agree on.
// The model, data, batches and initial weights are the same in all three files.
import * as tf from '@tensorflow/tfjs';
import { defineTraining } from 'gradient-lens';
import { loadFashionMnist } from 'gradient-lens/data';

const data = loadFashionMnist({ trainCount: 2000, testCount: 500 });

const model = tf.sequential({
  layers: [
    tf.layers.dense({ inputShape: [784], units: 128, activation: 'relu' }),
    tf.layers.dense({ units: 10, activation: 'softmax' }),
  ],
});

export default defineTraining({
  name: 'Optimisers: momentum',
  model,
  data,
  loss: 'categoricalCrossentropy',
  optimizer: tf.train.momentum(0.02, 0.9),
  batchSize: 64,
  steps: 200,
  seed: 9,
  evalEvery: 20,
  classNames: data.classNames,
});
