// Lesson 12 — Train the MLP of lesson 1 on real images.
// The same 784 → 256 → 128 → 10 network (235,146 parameters), now trained from scratch on all
// 5,000 shipped training images and evaluated on 1,000 images it never trains on.
import * as tf from '@tensorflow/tfjs';
import { defineTraining } from 'gradient-lens';
import { loadFashionMnist } from 'gradient-lens/data';

const data = loadFashionMnist({ trainCount: 5000, testCount: 1000 });

const model = tf.sequential({
  layers: [
    tf.layers.dense({ inputShape: [784], units: 256, activation: 'relu' }),
    tf.layers.dense({ units: 128, activation: 'relu' }),
    tf.layers.dense({ units: 10, activation: 'softmax' }),
  ],
});

export default defineTraining({
  name: 'Train the MLP on real images',
  model,
  data,
  loss: 'categoricalCrossentropy',
  optimizer: tf.train.adam(0.001),
  batchSize: 128,
  // 5,000 images / 128 per batch ≈ 39 steps per pass (epoch): 400 steps ≈ 10 passes.
  steps: 400,
  seed: 1,
  // Score the 1,000 held-out test images every 25 steps: the curve the lesson is about.
  evalEvery: 25,
  classNames: data.classNames,
});
