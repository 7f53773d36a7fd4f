// Lesson 10 — Overfitting: a big network, few examples.
// The network of lesson 1 (235,146 parameters) and only 256 training images: it can memorise
// every one of them.
import * as tf from '@tensorflow/tfjs';
import { defineTraining } from 'gradient-lens';
import { loadFashionMnist } from 'gradient-lens/data';

const data = loadFashionMnist({ trainCount: 256, testCount: 1000 });

const model = tf.sequential({
  layers: [
    tf.layers.dense({ inputShape: [784], units: 256, activation: 'relu' }),
    tf.layers.dense({ units: 128, activation: 'relu' }),
    tf.layers.dense({ units: 10, activation: 'softmax' }),
  ],
});

export default defineTraining({
  name: 'Overfitting',
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
