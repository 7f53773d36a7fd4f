// Lesson 8 — Initialisation and depth: vanishing gradients.
// Ten hidden layers of 64 sigmoid units with the usual Glorot initialisation. Each sigmoid passes
// back at most a quarter of the gradient it receives, so the first layers barely learn.
import * as tf from '@tensorflow/tfjs';
import { defineTraining } from 'gradient-lens';
import { loadFashionMnist } from 'gradient-lens/data';

const data = loadFashionMnist({ trainCount: 2000, testCount: 500 });

const hidden = Array.from({ length: 10 }, (_, i) =>
  tf.layers.dense({
    ...(i === 0 ? { inputShape: [784] } : {}),
    units: 64,
    activation: 'sigmoid',
    kernelInitializer: 'glorotUniform',
  }),
);

const model = tf.sequential({ layers: [...hidden, tf.layers.dense({ units: 10, activation: 'softmax' })] });

export default defineTraining({
  name: 'Ten sigmoid layers (vanishing gradients)',
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
