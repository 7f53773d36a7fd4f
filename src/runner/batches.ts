// Training batches from the user's data: in-memory splits are shuffled each epoch with the
// run's seed; a batch source (`nextBatch`) is the user's own code and is asked step by step.
// model.fit's batches follow stock tfjs: the last, partial batch of an epoch is kept, and
// `shuffle: false` keeps the examples in order.
import * as tf from '@tensorflow/tfjs';
import type { DataSpec, Split, Tensors } from '../api/index';
import { LocatedError } from './runError';
import { exampleCounts, gatherExamples, isTensors } from './exampleTensors';
import { seededGenerator, shuffledIndices } from './seededRandom';

export interface BatchSource {
  /** The batch for a step; tensors are the caller's to dispose. */
  batch(step: number): Split<Tensors>;
  readonly trainSize?: number;
}

function checkSplit(split: Split<Tensors> | undefined, what: string): asserts split is Split<Tensors> {
  if (!split || !isTensors(split.xs) || !isTensors(split.ys)) {
    throw new LocatedError({ kind: 'contract', message: `${what} must be { xs, ys }, each a tf.Tensor (or, for a model with several inputs or outputs, an array of them).` });
  }
  const counts = [...exampleCounts(split.xs), ...exampleCounts(split.ys)];
  if (counts.some((c) => c !== counts[0])) {
    const list = (t: Tensors) => exampleCounts(t).join(', ');
    throw new LocatedError({
      kind: 'contract',
      message: `${what}: xs has ${list(split.xs)} examples but ys has ${list(split.ys)}.`,
    });
  }
}

export interface BatchingOptions {
  /** Keep each epoch's last, smaller batch (ceil(n / batchSize) steps an epoch), as model.fit does. */
  partialBatches?: boolean;
  /** Shuffle each epoch (the default); false: the examples in order. */
  shuffle?: boolean;
}

/** Steps in one epoch of n examples. */
export function stepsPerEpoch(n: number, batchSize: number, partialBatches: boolean): number {
  const size = Math.min(batchSize, n);
  return partialBatches ? Math.ceil(n / size) : Math.floor(n / size);
}

export function batchSource(data: DataSpec, batchSize: number, seed: number, options: BatchingOptions = {}): BatchSource {
  if ('nextBatch' in data && typeof data.nextBatch === 'function') {
    return {
      batch: (step) => {
        const b = data.nextBatch(step, batchSize);
        checkSplit(b, `data.nextBatch(${step})`);
        return b;
      },
    };
  }
  const train = (data as { train?: Split<Tensors> }).train;
  checkSplit(train, 'data.train');
  const n = exampleCounts(train.xs)[0];
  const size = Math.min(batchSize, n);
  const random = seededGenerator(seed ^ 0x5eed);
  const shuffle = options.shuffle ?? true;
  const nextOrder = () => (shuffle ? shuffledIndices(n, random) : Int32Array.from({ length: n }, (_, i) => i));
  let order = nextOrder();
  let epoch = 0;
  const perEpoch = stepsPerEpoch(n, batchSize, options.partialBatches ?? false);
  return {
    trainSize: n,
    batch: (step) => {
      const e = Math.floor(step / perEpoch);
      while (epoch < e) {
        order = nextOrder();
        epoch++;
      }
      const start = (step % perEpoch) * size;
      const indices = tf.tensor1d(order.subarray(start, Math.min(start + size, n)), 'int32');
      const b = { xs: gatherExamples(train.xs, indices), ys: gatherExamples(train.ys, indices) };
      indices.dispose();
      return b;
    },
  };
}
