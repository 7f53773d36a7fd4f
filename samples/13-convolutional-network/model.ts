// Lesson 13 — A first convolutional network, on the same Fashion-MNIST images.
// Images keep their 28×28 shape. Each conv layer slides small 3×3 filters over the image; max
// pooling keeps the strongest response in every 2×2 patch; a dense layer reads the result.
import * as tf from '@tensorflow/tfjs';
import { defineTraining } from 'gradient-lens';
import { loadFashionMnist } from 'gradient-lens/data';

const data = loadFashionMnist({ trainCount: 5000, testCount: 1000, flatten: false });

const model = tf.sequential({
  layers: [
    // 8 filters of 3×3×1 (+ 8 biases) = 80 parameters → 26×26×8
    tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 8, kernelSize: 3, activation: 'relu' }),
    tf.layers.maxPooling2d({ poolSize: 2 }), // → 13×13×8
    // 16 filters of 3×3×8 (+ 16 biases) = 1,168 parameters → 11×11×16
    tf.layers.conv2d({ filters: 16, kernelSize: 3, activation: 'relu' }),
    tf.layers.maxPooling2d({ poolSize: 2 }), // → 5×5×16
    tf.layers.flatten(), // → 400
    tf.layers.dense({ units: 10, activation: 'softmax' }), // 400×10 + 10 = 4,010
  ],
});

export default defineTraining({
  name: 'A first convolutional network',
  model,
  data,
  loss: 'categoricalCrossentropy',
  optimizer: tf.train.adam(0.002),
  batchSize: 64,
  steps: 300,
  seed: 13,
  evalEvery: 25,
  classNames: data.classNames,
});
