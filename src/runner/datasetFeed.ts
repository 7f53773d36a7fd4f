// model.fitDataset's batches, step by step: a tf.data dataset is read asynchronously, so each
// step's batch is fetched before the step (in the run's beforeStep) and handed to the batch
// source then. As stock fitDataset: one iterator for the whole run when batchesPerEpoch is given,
// a fresh one each epoch otherwise.
import * as tf from '@tensorflow/tfjs';
import type { Split } from '../api/index';
import type { SourceLocation } from '../shared/traceTypes';
import { LocatedError } from './runError';

/** The part of a tf.data.Dataset the feed uses. */
export interface BatchDataset {
  iterator(): Promise<{ next(): Promise<IteratorResult<unknown>> }>;
  readonly size: number | null;
}

export function isDataset(value: unknown): value is BatchDataset {
  return typeof value === 'object' && value !== null && typeof (value as BatchDataset).iterator === 'function';
}

/** A dataset element as a batch: `{ xs, ys }` of single tensors (as stock fitDataset reads it). */
export function asSplit(value: unknown, fail: (message: string) => LocatedError): Split {
  const v = value as Partial<Split> | null;
  if (!v || !(v.xs instanceof tf.Tensor) || !(v.ys instanceof tf.Tensor)) {
    throw fail('fitDataset is traced when the dataset yields { xs, ys } of single tensors (batched: dataset.batch(n)).');
  }
  return { xs: v.xs, ys: v.ys };
}

export class DatasetFeed {
  private iterator?: { next(): Promise<IteratorResult<unknown>> };
  private readonly fetched = new Map<number, Split>();

  constructor(
    private readonly dataset: BatchDataset,
    readonly batchesPerEpoch: number,
    /** True when the user gave batchesPerEpoch: one iterator across epochs. */
    private readonly continuous: boolean,
    private readonly location: SourceLocation | undefined,
  ) {}

  private fail = (message: string) => new LocatedError({ kind: 'contract', message, location: this.location });

  /** Reads step's batch (once; a step already fetched is kept). */
  async fetch(step: number): Promise<Split> {
    const known = this.fetched.get(step);
    if (known) return known;
    const first = step % this.batchesPerEpoch === 0;
    if (!this.iterator || (first && !this.continuous)) this.iterator = await this.dataset.iterator();
    const next = await this.iterator.next();
    if (next.done) {
      throw this.fail(
        `fitDataset: the dataset ran out after ${step} batches, before the ${this.batchesPerEpoch * Math.ceil((step + 1) / this.batchesPerEpoch)} the epochs need (dataset.repeat() gives more).`,
      );
    }
    const batch = asSplit(next.value, this.fail);
    this.fetched.set(step, batch);
    return batch;
  }

  /** The batch fetched for a step; the caller disposes it. */
  take(step: number): Split {
    const batch = this.fetched.get(step);
    if (!batch) throw new Error(`fitDataset: step ${step}'s batch was not fetched`);
    this.fetched.delete(step);
    return batch;
  }
}
