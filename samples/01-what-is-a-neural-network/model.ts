// Lesson 1 — What is a neural network?
// A multilayer perceptron: 784 pixels in, two hidden layers of ReLU units, 10 class scores out.
// Parameters: 784×256 + 256 = 200,960 · 256×128 + 128 = 32,896 · 128×10 + 10 = 1,290 → 235,146.
import * as tf from '@tensorflow/tfjs';
import { defineTraining } from 'gradient-lens';
import { loadFashionMnist } from 'gradient-lens/data';

// Real Fashion-MNIST photographs of clothes, 28×28 grey pixels flattened to 784 numbers in [0, 1].
const data = loadFashionMnist({ trainCount: 2000, testCount: 500 });

const model = tf.sequential({
  layers: [
    tf.layers.dense({
      inputShape: [784], // 28 × 28 pixels
      units: 256,
      activation: 'relu',
    }),
    tf.layers.dense({ units: 128, activation: 'relu' }),
    tf.layers.dense({ units: 10, activation: 'softmax' }),
  ],
});

export default defineTraining({
  name: 'What is a neural network?',
  model,
  data,
  loss: 'categoricalCrossentropy',
  optimizer: tf.train.sgd(0.1),
  batchSize: 64,
  steps: 20,
  seed: 1,
  classNames: data.classNames,
});
