// Lesson 4, part 2 — the same network with weights drawn far too large (normal, std 1).
// Weighted sums of 784 pixels become huge: sigmoid and tanh saturate, many ReLU units die.
import * as tf from '@tensorflow/tfjs';
import { defineTraining } from 'gradient-lens';
import { loadFashionMnist } from 'gradient-lens/data';

const data = loadFashionMnist({ trainCount: 2000, testCount: 500 });
const tooLarge = () => tf.initializers.randomNormal({ mean: 0, stddev: 1 });

const model = tf.sequential({
  layers: [
    tf.layers.dense({ inputShape: [784], units: 64, activation: 'sigmoid', kernelInitializer: tooLarge() }),
    tf.layers.dense({ units: 64, activation: 'tanh', kernelInitializer: tooLarge() }),
    tf.layers.dense({ units: 64, activation: 'relu', kernelInitializer: tooLarge() }),
    tf.layers.dense({ units: 10, activation: 'softmax' }),
  ],
});

export default defineTraining({
  name: 'Activation functions, saturated',
  model,
  data,
  loss: 'categoricalCrossentropy',
  optimizer: tf.train.sgd(0.1),
  batchSize: 64,
  steps: 100,
  seed: 4,
  classNames: data.classNames,
});
