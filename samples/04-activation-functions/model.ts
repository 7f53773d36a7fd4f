// Lesson 4 — Activation functions: sigmoid, tanh and ReLU side by side.
// Three hidden layers of 64 units, each with a different activation, so one trace shows all three
// on the same images. Initialised the standard way (Glorot uniform, zero biases).
import * as tf from '@tensorflow/tfjs';
import { defineTraining } from 'gradient-lens';
import { loadFashionMnist } from 'gradient-lens/data';

const data = loadFashionMnist({ trainCount: 2000, testCount: 500 });

const model = tf.sequential({
  layers: [
    tf.layers.dense({ inputShape: [784], units: 64, activation: 'sigmoid' }),
    tf.layers.dense({ units: 64, activation: 'tanh' }),
    tf.layers.dense({ units: 64, activation: 'relu' }),
    tf.layers.dense({ units: 10, activation: 'softmax' }),
  ],
});

export default defineTraining({
  name: 'Activation functions',
  model,
  data,
  loss: 'categoricalCrossentropy',
  optimizer: tf.train.sgd(0.1),
  batchSize: 64,
  steps: 100,
  seed: 4,
  classNames: data.classNames,
});
