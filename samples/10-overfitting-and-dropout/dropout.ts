// Lesson 10, part 2 — the same network and data with dropout: during training each input pixel is
// switched off at random with probability 0.2 and each hidden unit with probability 0.5 (a fresh
// choice every step, the survivors scaled up to compensate); at test time all are on.
import * as tf from '@tensorflow/tfjs';
import { defineTraining } from 'gradient-lens';
import { loadFashionMnist } from 'gradient-lens/data';

const data = loadFashionMnist({ trainCount: 256, testCount: 1000 });

const model = tf.sequential({
  layers: [
    tf.layers.dropout({ inputShape: [784], rate: 0.2 }),
    tf.layers.dense({ units: 256, activation: 'relu' }),
    tf.layers.dropout({ rate: 0.5 }),
    tf.layers.dense({ units: 128, activation: 'relu' }),
    tf.layers.dropout({ rate: 0.5 }),
    tf.layers.dense({ units: 10, activation: 'softmax' }),
  ],
});

export default defineTraining({
  name: 'Overfitting: dropout',
  model,
  data,
  loss: 'categoricalCrossentropy',
  optimizer: tf.train.adam(0.001),
  batchSize: 32,
  // 256 images / 32 per batch = 8 steps per pass: 50 passes over the same images.
  steps: 400,
  seed: 10,
  evalEvery: 20,
  classNames: data.classNames,
});
