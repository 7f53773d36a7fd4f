// Lesson 5, part 2 — the classifier of model.ts trained with squared error instead of cross-entropy:
// mean over the 10 outputs of (target − probability)², as if class scores were numbers to fit.
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
  name: 'Loss functions: squared error',
  model,
  data,
  loss: 'meanSquaredError',
  optimizer: tf.train.sgd(0.1),
  batchSize: 64,
  steps: 150,
  seed: 5,
  evalEvery: 15,
  classNames: data.classNames,
});
