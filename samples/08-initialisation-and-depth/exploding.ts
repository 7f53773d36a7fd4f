// Lesson 8, part 3 — ReLU layers with weights drawn too large (normal, std 0.5 instead of He's
// √(2/64) ≈ 0.18): every layer multiplies the signal by about 2.8, and ten layers by about 30,000.
import * as tf from '@tensorflow/tfjs';
import { defineTraining } from 'gradient-lens';
import { loadFashionMnist } from 'gradient-lens/data';

const data = loadFashionMnist({ trainCount: 2000, testCount: 500 });

const hidden = Array.from({ length: 10 }, (_, i) =>
  tf.layers.dense({
    ...(i === 0 ? { inputShape: [784] } : {}),
    units: 64,
    activation: 'relu',
    kernelInitializer: tf.initializers.randomNormal({ mean: 0, stddev: 0.5 }),
  }),
);

const model = tf.sequential({ layers: [...hidden, tf.layers.dense({ units: 10, activation: 'softmax' })] });

export default defineTraining({
  name: 'Ten ReLU layers, weights too large (exploding)',
  model,
  data,
  loss: 'categoricalCrossentropy',
  optimizer: tf.train.sgd(0.05),
  batchSize: 64,
  steps: 150,
  seed: 8,
  evalEvery: 15,
  classNames: data.classNames,
});
