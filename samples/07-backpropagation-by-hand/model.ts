// Lesson 7 — Backpropagation by hand.
// A 2-2-1 network with weights fixed by hand, one training example, one step you can check with
// a pencil: the README works every number of step 0 out, and the trace must agree.
import * as tf from '@tensorflow/tfjs';
import { defineTraining } from 'gradient-lens';

// One row of XOR's truth table: inputs (1, 0), target 1.
const example = { xs: tf.tensor2d([[1, 0]]), ys: tf.tensor2d([[1]]) };

const model = tf.sequential({
  layers: [
    tf.layers.dense({
      inputShape: [2],
      units: 2,
      activation: 'sigmoid',
      // kernel[i][j] is the weight from input i to hidden unit j.
      weights: [tf.tensor2d([[0.5, -0.3], [0.2, 0.4]]), tf.tensor1d([0.1, -0.2])],
    }),
    tf.layers.dense({
      units: 1,
      activation: 'sigmoid',
      weights: [tf.tensor2d([[0.6], [-0.5]]), tf.tensor1d([0.3])],
    }),
  ],
});

export default defineTraining({
  name: 'Backpropagation by hand',
  model,
  data: { train: example },
  loss: 'meanSquaredError',
  optimizer: tf.train.sgd(0.5),
  batchSize: 1,
  steps: 2,
  seed: 7,
  evalEvery: 0,
});
