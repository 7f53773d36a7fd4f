// Lesson 11 — Batch normalisation.
// Six hidden layers; after each weighted sum, batch normalisation rescales every unit to mean 0 and
// variance 1 over the batch, then applies a learned scale (gamma) and shift (beta).
import * as tf from '@tensorflow/tfjs';
import { defineTraining } from 'gradient-lens';
import { loadFashionMnist } from 'gradient-lens/data';

const data = loadFashionMnist({ trainCount: 2000, testCount: 500 });

const block = (i: number) => [
  tf.layers.dense({ ...(i === 0 ? { inputShape: [784] } : {}), units: 100, useBias: false }),
  // momentum 0.9: the running averages used at test time follow the last ~10 batches (see README).
  tf.layers.batchNormalization({ momentum: 0.9 }),
  tf.layers.activation({ activation: 'relu' }),
];

const model = tf.sequential({
  layers: [...[0, 1, 2, 3, 4, 5].flatMap(block), tf.layers.dense({ units: 10, activation: 'softmax' })],
});

export default defineTraining({
  name: 'Batch normalisation',
  model,
  data,
  loss: 'categoricalCrossentropy',
  optimizer: tf.train.sgd(0.05),
  batchSize: 64,
  steps: 150,
  seed: 11,
  evalEvery: 15,
  classNames: data.classNames,
});
