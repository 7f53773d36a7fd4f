// Training batches from the user's data: in-memory splits are shuffled each epoch with the
// run's seed; a batch source (`nextBatch`) is the user's own code and is asked step by step.
import * as tf from '@tensorflow/tfjs';
import type { DataSpec, Split } from '../api/index';
import { LocatedError } from './runError';
import { seededGenerator, shuffledIndices } from './seededRandom';

export interface BatchSource {
  /** The batch for a step; tensors are the caller's to dispose. */
  batch(step: number): Split;
  readonly trainSize?: number;
}

function checkSplit(split: Split | undefined, what: string): asserts split is Split {
  if (!split || !(split.xs instanceof tf.Tensor) || !(split.ys instanceof tf.Tensor)) {
    throw new LocatedError({ kind: 'contract', message: `${what} must be { xs: tf.Tensor, ys: tf.Tensor }.` });
  }
  if (split.xs.shape[0] !== split.ys.shape[0]) {
    throw new LocatedError({
      kind: 'contract',
      message: `${what}: xs has ${split.xs.shape[0]} examples but ys has ${split.ys.shape[0]}.`,
    });
  }
}

export function batchSource(data: DataSpec, batchSize: number, seed: number): BatchSource {
  if ('nextBatch' in data && typeof data.nextBatch === 'function') {
    return {
      batch: (step) => {
        const b = data.nextBatch(step, batchSize);
        checkSplit(b, `data.nextBatch(${step})`);
        return b;
      },
    };
  }
  const train = (data as { train?: Split }).train;
  checkSplit(train, 'data.train');
  const n = train.xs.shape[0];
  const size = Math.min(batchSize, n);
  const random = seededGenerator(seed ^ 0x5eed);
  let order = shuffledIndices(n, random);
  let epoch = 0;
  return {
    trainSize: n,
    batch: (step) => {
      const perEpoch = Math.floor(n / size);
      const e = Math.floor(step / perEpoch);
      while (epoch < e) {
        order = shuffledIndices(n, random);
        epoch++;
      }
      const start = (step % perEpoch) * size;
      const indices = tf.tensor1d(order.subarray(start, start + size), 'int32');
      const b = { xs: tf.gather(train.xs, indices), ys: tf.gather(train.ys, indices) };
      indices.dispose();
      return b;
    },
  };
}
