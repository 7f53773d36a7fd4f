// model.fitDataset's batches, step by step: a tf.data dataset is read asynchronously, so each
// step's batch is fetched before the step (in the run's beforeStep) and handed to the batch
// source then. As stock fitDataset: one iterator for the whole run when batchesPerEpoch is given,
// a fresh one each epoch otherwise.
import * as tf from '@tensorflow/tfjs';
import type { Split, Tensors } from '../api/index';
import { modelTensors } from './exampleTensors';
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

/** The names a model's inputs and outputs go by: a dataset's `xs` and `ys` may be keyed by them. */
export interface ModelNames {
  inputs: string[];
  outputs: string[];
}

export function modelNames(model: tf.LayersModel): ModelNames {
  return { inputs: model.inputNames, outputs: model.outputNames };
}

/**
 * A dataset element as a batch: `{ xs, ys }`, each a tensor, an array of them or an object of
 * them keyed by input (output) name, as stock fitDataset reads it.
 */
export function asSplit(value: unknown, names: ModelNames, fail: (message: string) => LocatedError): Split<Tensors> {
  const v = value as Partial<Record<'xs' | 'ys', unknown>> | null;
  if (typeof v !== 'object' || v === null || v.xs === undefined || v.ys === undefined) {
    throw fail('fitDataset is traced when the dataset yields { xs, ys } (batched: dataset.batch(n)).');
  }
  return { xs: modelTensors(v.xs, names.inputs, 'xs', 'fitDataset', fail), ys: modelTensors(v.ys, names.outputs, 'ys', 'fitDataset', fail) };
}

export class DatasetFeed {
  private iterator?: { next(): Promise<IteratorResult<unknown>> };
  private readonly fetched = new Map<number, Split<Tensors>>();

  constructor(
    private readonly dataset: BatchDataset,
    private readonly names: ModelNames,
    readonly batchesPerEpoch: number,
    /** True when the user gave batchesPerEpoch: one iterator across epochs. */
    private readonly continuous: boolean,
    private readonly location: SourceLocation | undefined,
  ) {}

  private fail = (message: string) => new LocatedError({ kind: 'contract', message, location: this.location });

  /** Reads step's batch (once; a step already fetched is kept). */
  async fetch(step: number): Promise<Split<Tensors>> {
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
    const batch = asSplit(next.value, this.names, this.fail);
    this.fetched.set(step, batch);
    return batch;
  }

  /** The batch fetched for a step; the caller disposes it. */
  take(step: number): Split<Tensors> {
    const batch = this.fetched.get(step);
    if (!batch) throw new Error(`fitDataset: step ${step}'s batch was not fetched`);
    this.fetched.delete(step);
    return batch;
  }
}
