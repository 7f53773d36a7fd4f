// Lesson 9, part 3 — Adam: momentum plus a per-weight step size, each gradient divided by a running
// estimate of its own typical size.
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
  name: 'Optimisers: Adam',
  model,
  data,
  loss: 'categoricalCrossentropy',
  optimizer: tf.train.adam(0.001),
  batchSize: 64,
  steps: 200,
  seed: 9,
  evalEvery: 20,
  classNames: data.classNames,
});
