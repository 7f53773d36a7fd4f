// Lesson 8, part 2 — the same depth with ReLU units and He initialisation (variance 2 / fan-in),
// chosen so the size of activations and gradients stays about the same through all ten layers.
import * as tf from '@tensorflow/tfjs';
import { defineTraining } from 'gradient-lens';
import { loadFashionMnist } from 'gradient-lens/data';

const data = loadFashionMnist({ trainCount: 2000, testCount: 500 });

const hidden = Array.from({ length: 10 }, (_, i) =>
  tf.layers.dense({
    ...(i === 0 ? { inputShape: [784] } : {}),
    units: 64,
    activation: 'relu',
    kernelInitializer: 'heNormal',
  }),
);

const model = tf.sequential({ layers: [...hidden, tf.layers.dense({ units: 10, activation: 'softmax' })] });

export default defineTraining({
  name: 'Ten ReLU layers, He initialisation',
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
