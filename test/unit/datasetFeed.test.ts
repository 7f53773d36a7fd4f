// fitDataset's batches as the tracer reads them: a dataset element that is not `{ xs, ys }`, or
// whose `xs` names an input the model lacks, is refused at the fitDataset call's line with what
// was wrong; a well-formed element of a two-input model comes out in the model's input order.
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { DatasetFeed, asSplit } from '../../src/runner/datasetFeed';
import { LocatedError } from '../../src/runner/runError';
import { useBackend } from './helpers/tracerHarness';

const names = { inputs: ['numeric', 'category'], outputs: ['out'] };
const where = { file: '/work/model.ts', line: 12, column: 7 };
const fail = (message: string) => new LocatedError({ kind: 'contract', message, location: where });

function refusal(value: unknown): LocatedError {
  try {
    asSplit(value, names, fail);
  } catch (e) {
    assert.ok(e instanceof LocatedError, String(e));
    return e;
  }
  assert.fail('accepted');
}

describe('fitDataset batches', () => {
  before(() => useBackend('cpu'));

  it('reads xs keyed by input name in the model input order, and xs as an array as it is', () => {
    tf.tidy(() => {
      const numeric = tf.ones([2, 4]);
      const category = tf.zeros([2, 3]);
      const ys = tf.ones([2, 1]);
      assert.deepEqual(asSplit({ xs: { category, numeric }, ys }, names, fail), { xs: [numeric, category], ys });
      assert.deepEqual(asSplit({ xs: [numeric, category], ys: { out: ys } }, names, fail), { xs: [numeric, category], ys });
    });
  });

  it('refuses, at the fitDataset line, an element that is not { xs, ys }, an unknown input name, a missing input and a wrong count', () => {
    tf.tidy(() => {
      const t = tf.ones([2, 4]);
      const cases: [unknown, string][] = [
        [t, 'fitDataset is traced when the dataset yields { xs, ys } (batched: dataset.batch(n)).'],
        [{ xs: { numeric: t, colour: t }, ys: t }, "fitDataset: xs names 'colour', but the model's inputs are numeric, category."],
        [{ xs: { numeric: t }, ys: t }, "fitDataset: xs has no tensor for input 'category'."],
        [{ xs: [t], ys: t }, 'fitDataset: the model has 2 inputs (numeric, category), but xs holds 1 tensor.'],
        [{ xs: [t, 3], ys: t }, 'fitDataset: every entry of xs must be a tf.Tensor.'],
      ];
      for (const [value, message] of cases) {
        const e = refusal(value);
        assert.equal(e.runError.message, message);
        assert.deepEqual(e.runError.location, where);
      }
    });
  });

  it('a dataset that runs out before the epochs need is a located error naming the step', async () => {
    const dataset = tf.data.array([{ xs: tf.ones([1, 4]), ys: tf.ones([1, 1]) }]);
    const feed = new DatasetFeed(dataset, { inputs: ['numeric'], outputs: ['out'] }, 2, true, where);
    await feed.fetch(0);
    await assert.rejects(feed.fetch(1), (e: unknown) => e instanceof LocatedError && /ran out after 1 batches, before the 2 the epochs need/.test(e.runError.message) && e.runError.location === where);
    const { xs, ys } = feed.take(0);
    tf.dispose([xs, ys]);
  });
});
