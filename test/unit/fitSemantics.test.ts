// model.fit traced in the runner against stock tfjs's model.fit on the cpu backend, from the same
// model and data (test/unit/fixtures/fit/fitRecipe.ts): steps per epoch with the last partial
// batch, validationSplit and validationData metrics, callbacks called in stock's order with
// stock's logs, early stopping; and every way the user's async code can fail, located.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { TraceReader } from '../../src/trace/traceReader';
import type { RunError } from '../../src/shared/traceTypes';
import { asDataset, fitCase, logLine } from './fixtures/fit/fitRecipe';
import { traceWithRunner } from './helpers/runnerTrace';
import { useBackend } from './helpers/tracerHarness';

const root = path.resolve(__dirname, '../../..');
const fixture = (name: string) => path.join(root, 'test/unit/fixtures/fit', name);

interface Logged {
  event: string;
  index: number;
  logs: Record<string, number>;
}

async function traced(file: string, backend: string): Promise<{ dir: string; lines: Logged[]; failure?: RunError }> {
  const lines: Logged[] = [];
  const run = await traceWithRunner(file, backend, (m) => {
    if (m.type === 'log' && m.text.startsWith('{"event"')) lines.push(JSON.parse(m.text) as Logged);
  });
  return { ...run, lines };
}

/** Stock tfjs's model.fit on cpu, its callbacks recording what they saw. */
async function stock(examples: number, args: tf.ModelFitArgs, validationExamples?: number): Promise<{ lines: Logged[]; epochs: number }> {
  await useBackend('cpu');
  const { model, xs, ys } = fitCase(examples);
  const lines: Logged[] = [];
  const record = (event: string) => (index: number, logs?: tf.Logs) => {
    lines.push(JSON.parse(logLine(event, index, logs)) as Logged);
  };
  const callbacks = [
    ...(Array.isArray(args.callbacks) ? args.callbacks : []),
    new tf.CustomCallback({
      onTrainBegin: (logs) => record('trainBegin')(0, logs),
      onEpochBegin: record('epochBegin'),
      onBatchBegin: record('batchBegin'),
      onBatchEnd: record('batchEnd'),
      onEpochEnd: record('epochEnd'),
      onTrainEnd: (logs) => record('trainEnd')(0, logs),
    }),
  ];
  const validation = validationExamples ? fitCase(validationExamples) : undefined;
  const history = await model.fit(xs, ys, { ...args, callbacks, validationData: validation && [validation.xs, validation.ys] });
  model.dispose();
  return { lines, epochs: history.epoch.length };
}

function assertSameLogs(mine: Logged[], expected: Logged[], tol: number): void {
  assert.deepEqual(
    mine.map((l) => `${l.event} ${l.index}`),
    expected.map((l) => `${l.event} ${l.index}`),
    'the same callbacks, in the same order',
  );
  mine.forEach((l, i) => {
    assert.deepEqual(Object.keys(l.logs).sort(), Object.keys(expected[i].logs).sort(), `${l.event} ${l.index}: the same log keys`);
    for (const [key, value] of Object.entries(expected[i].logs)) {
      assert.ok(Math.abs(l.logs[key] - value) <= tol, `${l.event} ${l.index} ${key}: traced ${l.logs[key]}, stock ${value}`);
    }
  });
}

describe('model.fit as stock tfjs runs it', function () {
  this.timeout(120_000);
  let stockSplit: Logged[];

  before(async () => {
    // As the fixture: 50 examples, 20% held out → 40 train → batches of 16, 16 and 8.
    ({ lines: stockSplit } = await stock(50, { epochs: 3, batchSize: 16, validationSplit: 0.2, shuffle: false }));
  });

  for (const backend of ['cpu', 'wasm']) {
    it(`validationSplit, partial last batch, awaited callbacks: the same batches, logs and val metrics as stock fit (${backend})`, async () => {
      const { dir, lines, failure } = await traced(fixture('validationSplit.ts'), backend);
      assert.equal(failure, undefined, failure?.message);
      assert.equal(stockSplit.filter((l) => l.event === 'batchEnd').length, 9, 'stock: ceil(40 / 16) = 3 batches an epoch');
      assertSameLogs(lines, stockSplit, backend === 'cpu' ? 2e-5 : 1e-4);
      const r = TraceReader.open(dir);
      assert.equal(r.stepCount, 9);
      assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7, 8].map((s) => r.entry(s).testAccuracy !== null), [false, false, true, false, false, true, false, false, true], 'held-out metrics at each epoch’s end');
      const epochEnds = stockSplit.filter((l) => l.event === 'epochEnd');
      [2, 5, 8].forEach((s, epoch) => {
        assert.ok(Math.abs(r.readStep(s).testLoss! - epochEnds[epoch].logs.val_loss) < 1e-4, `step ${s}: the trace's test loss is stock's val_loss`);
        assert.ok(Math.abs(r.entry(s).testAccuracy! - epochEnds[epoch].logs.val_acc) < 1e-6);
      });
      r.close();
    });
  }

  it('tf.callbacks.earlyStopping ends the run where stock fit stops, as finished', async () => {
    const expected = await stock(40, { epochs: 6, batchSize: 16, shuffle: false, callbacks: [tf.callbacks.earlyStopping({ monitor: 'val_loss', minDelta: 10, patience: 0 })] }, 20);
    assert.equal(expected.epochs, 2, 'stock stops after the second epoch');
    const { dir, lines, failure } = await traced(fixture('earlyStopping.ts'), 'cpu');
    assert.equal(failure, undefined, failure?.message);
    assertSameLogs(lines, expected.lines.filter((l) => l.event === 'epochEnd'), 2e-5);
    assert.equal(expected.lines.filter((l) => l.event === 'batchEnd').length, 2 * 3, 'stock ran 2 epochs of ceil(40 / 16) batches');
    const r = TraceReader.open(dir);
    assert.equal(r.stepCount, 2 * 3, '2 epochs × ceil(40 / 16) steps');
    assert.equal(r.end?.state, 'finished');
    r.close();
  });

  it('model.fitDataset with tf.data datasets: the same batches, logs and val metrics as stock fitDataset', async () => {
    await useBackend('cpu');
    const { model, xs, ys } = fitCase(40);
    const validation = fitCase(20);
    const expected: Logged[] = [];
    const record = (event: string) => (index: number, logs?: tf.Logs) => {
      expected.push(JSON.parse(logLine(event, index, logs)) as Logged);
    };
    await model.fitDataset(asDataset(xs, ys, 16), {
      epochs: 2,
      validationData: asDataset(validation.xs, validation.ys, 8),
      callbacks: { onBatchBegin: record('batchBegin'), onBatchEnd: record('batchEnd'), onEpochEnd: record('epochEnd') },
    });
    model.dispose();
    for (const backend of ['cpu', 'wasm']) {
      const { dir, lines, failure } = await traced(fixture('fitDataset.ts'), backend);
      assert.equal(failure, undefined, failure?.message);
      assertSameLogs(lines, expected, backend === 'cpu' ? 2e-5 : 1e-4);
      const r = TraceReader.open(dir);
      assert.equal(r.stepCount, 2 * 3, '2 epochs × 3 batches (16, 16, 8)');
      assert.equal(r.meta.config.batchSize, 16);
      r.close();
    }
  });

  it('a fit refused inside an async main: a located contract error, not a crashed runner', async () => {
    const file = fixture('refusedInAsync.ts');
    const { failure } = await traced(file, 'wasm');
    assert.equal(failure?.kind, 'contract');
    assert.match(failure!.message, /'classWeight' option is not traced/);
    assert.deepEqual([failure?.location?.file, failure?.location?.line], [file, 8]);
  });

  it('a loop of model.trainOnBatch calls: refused at the first call\'s line, before it trains', async () => {
    const file = fixture('trainOnBatchLoop.ts');
    const { failure } = await traced(file, 'wasm');
    assert.equal(failure?.kind, 'contract');
    assert.match(failure!.message, /model\.trainOnBatch is not traced: train with model\.fit/);
    assert.deepEqual([failure?.location?.file, failure?.location?.line], [file, 8]);
  });

  it('a loop of optimizer.minimize calls and no declared training: the error points at the loop', async () => {
    const file = fixture('minimizeLoop.ts');
    const { failure } = await traced(file, 'wasm');
    assert.equal(failure?.kind, 'contract');
    assert.match(failure!.message, /trains in a loop of its own \(optimizer\.minimize, here\), which is not traced/);
    assert.deepEqual([failure?.location?.file, failure?.location?.line], [file, 8]);
  });

  it('a callback that throws: a user exception at its line, with the step', async () => {
    const file = fixture('callbackThrows.ts');
    const { dir, failure } = await traced(file, 'wasm');
    assert.equal(failure?.kind, 'user-exception');
    assert.match(failure!.message, /callback gave up at epoch 1/);
    assert.deepEqual([failure?.location?.file, failure?.location?.line], [file, 11]);
    assert.equal(failure?.step, 3, 'the last step of epoch 1 (2 steps an epoch)');
    assert.equal(TraceReader.open(dir).end?.state, 'failed');
  });

  it('a rejection in user async code outside a step: a user exception at its line', async () => {
    const file = fixture('rejectsDuringTraining.ts');
    const { dir, failure } = await traced(file, 'wasm');
    assert.equal(failure?.kind, 'user-exception');
    assert.match(failure!.message, /reporting failed at step 2/);
    assert.deepEqual([failure?.location?.file, failure?.location?.line], [file, 7]);
    const r = TraceReader.open(dir);
    assert.equal(r.stepCount, 3, 'the steps before it are kept');
    assert.equal(r.end?.state, 'failed');
  });

  it('a timer callback that throws while training: a user exception at its line, not a crashed runner', async () => {
    const file = fixture('timerThrows.ts');
    const { failure } = await traced(file, 'wasm');
    assert.equal(failure?.kind, 'user-exception');
    assert.match(failure!.message, /the progress timer broke/);
    assert.deepEqual([failure?.location?.file, failure?.location?.line], [file, 8]);
  });
});
