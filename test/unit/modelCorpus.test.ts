// The model corpus: model files written the way TensorFlow.js users write them (tf.sequential
// and tf.model, compile, an awaited model.fit or fitDataset), in test/unit/fixtures/corpus.
// Each is traced through the runner, as the CLI and the extension run it, on cpu and on wasm,
// and checked against the same file run by stock tfjs on cpu (helpers/stockFit.ts): the first
// step's batch, weights, loss and every ∂L/∂W against tfjs autodiff; the steps of each epoch
// (the partial last batch kept); held-out metrics exactly where stock fit reports them; what
// the file's callbacks print; and no health alarm while the loss falls.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TraceReader } from '../../src/trace/traceReader';
import { healthOf } from '../../src/shared/health';
import { literalSeed } from '../../src/runner/userModule';
import { DEFAULT_SEED } from '../../src/runner/runConfig';
import type { RunError, StepRecord } from '../../src/shared/traceTypes';
import { traceWithRunner } from './helpers/runnerTrace';
import { stockRun, type StockRun } from './helpers/stockFit';
import { maxAbs, maxAbsDiff } from './helpers/tracerHarness';

const root = path.resolve(__dirname, '../../..');
const corpusFile = (name: string) => path.join(root, 'test/unit/fixtures/corpus', name);

interface CorpusModel {
  file: string;
  what: string;
  epochs: number;
  /** ceil(training examples / batch size), as the file sets them: the last batch is partial. */
  stepsPerEpoch: number;
  validation: boolean;
}

const CORPUS: CorpusModel[] = [
  { file: 'customLayer.ts', what: 'a custom layer class (addWeight, call, computeOutputShape)', epochs: 2, stepsPerEpoch: 3, validation: false },
  { file: 'residual.ts', what: 'a residual functional net (tf.layers.add), validationData', epochs: 2, stepsPerEpoch: 4, validation: true },
  {
    file: 'twoInputs.ts',
    what: 'a two-input functional net (concatenate), validationSplit',
    epochs: 2,
    stepsPerEpoch: 4,
    validation: true,
  },
  { file: 'textLstm.ts', what: 'a text model: embedding + LSTM, binary cross-entropy, validationSplit', epochs: 3, stepsPerEpoch: 3, validation: true },
  { file: 'gruSequence.ts', what: 'a time series: stacked GRU → SimpleRNN, mean squared error, shuffle off', epochs: 3, stepsPerEpoch: 3, validation: false },
  { file: 'separableConv.ts', what: 'a conv net with separable convolutions and global pooling', epochs: 2, stepsPerEpoch: 3, validation: false },
  { file: 'validationCallbacks.ts', what: 'fit with validationSplit, callbacks and early stopping', epochs: 3, stepsPerEpoch: 3, validation: true },
  { file: 'fitDataset.ts', what: 'fitDataset on a tf.data pipeline, with a validation dataset', epochs: 2, stepsPerEpoch: 4, validation: true },
  {
    file: 'fitDatasetTwoInputs.ts',
    what: 'fitDataset of a two-input net: xs keyed by input name, held-out [xs, ys] tensors',
    epochs: 2,
    stepsPerEpoch: 4,
    validation: true,
  },
  { file: 'layerNorm.ts', what: 'layer normalisation in a residual block, sparse labels', epochs: 2, stepsPerEpoch: 3, validation: true },
  { file: 'conv1d.ts', what: 'a Conv1D net with max pooling over time', epochs: 2, stepsPerEpoch: 4, validation: false },
  { file: 'regression.ts', what: 'a small regression (mean squared error, sgd)', epochs: 4, stepsPerEpoch: 4, validation: false },
];

async function traced(file: string, backend: string): Promise<{ dir: string; printed: string[]; failure?: RunError }> {
  const printed: string[] = [];
  const run = await traceWithRunner(file, backend, (m) => {
    if (m.type === 'log' && m.level === 'info') printed.push(m.text);
  });
  return { ...run, printed };
}

function full(record: StepRecord, layer: number, role: string, param?: string): Float32Array {
  const t = record.tensors.find((v) => v.layer === layer && v.role === role && v.param === param);
  if (!t) throw new Error(`step ${record.step} keeps no ${role} of layer ${layer} ${param ?? ''}`);
  return t.values;
}

/** A printed line with its numbers masked: the traced and stock runs see different batches' values. */
const shapeOf = (line: string) => line.replace(/-?\d+(\.\d+)?(e-?\d+)?/g, '#');

function checkFirstStep(r: TraceReader, stock: StockRun, tol: number): void {
  const step0 = r.readStep(0);
  const { firstStep } = stock;
  assert.deepEqual(r.meta.model.layers.map((l) => l.type), firstStep.layerTypes, 'the same layers, in the same order');
  // The file's data come from the backend it runs on (wasm's linspace rounds differently from cpu's).
  // With several inputs, the input role's param names the input; the first layer reads the first.
  const input = step0.tensors.find((t) => t.layer === 0 && t.role === 'input');
  assert.ok(input, 'step 0 keeps the first layer’s input');
  assert.ok(maxAbsDiff(input.values, firstStep.input) < 1e-6, 'the runner trained first on the batch the reference uses');
  assert.ok(Math.abs(r.entry(0).loss - firstStep.loss) < tol, `step 0's loss: traced ${r.entry(0).loss}, tfjs ${firstStep.loss}`);
  for (const [key, expected] of firstStep.grads) {
    const [layer, param] = [Number(key.split('/')[0]), key.slice(key.indexOf('/') + 1)];
    const after = full(step0, layer, 'param', param);
    const delta = full(step0, layer, 'delta', param);
    const before = after.map((v, i) => v - delta[i]);
    assert.ok(maxAbsDiff(before, firstStep.weights.get(key)!) < 1e-5, `${key}: the runner built the weights stock tfjs built`);
    const grad = full(step0, layer, 'gradParam', param);
    const scale = Math.max(1e-6, maxAbs(expected));
    assert.ok(maxAbsDiff(grad, expected) / scale < tol, `${key}: ∂L/∂W differs by ${maxAbsDiff(grad, expected)} (scale ${scale})`);
  }
  assert.ok(firstStep.grads.size > 0, 'the model has weights to check');
  const tracedParams = step0.tensors.filter((t) => t.role === 'gradParam').length;
  assert.equal(tracedParams, firstStep.grads.size, 'a traced gradient for every trainable weight, and no other');
}

function checkFitSemantics(r: TraceReader, stock: StockRun, model: CorpusModel): void {
  assert.deepEqual(stock.batchesPerEpoch, Array(model.epochs).fill(model.stepsPerEpoch), 'stock: ceil(examples / batch) steps an epoch');
  const epochEnds = stock.batchesPerEpoch.map((_, e) => stock.batchesPerEpoch.slice(0, e + 1).reduce((a, b) => a + b) - 1);
  assert.equal(r.stepCount, epochEnds[epochEnds.length - 1] + 1, 'as many steps as stock fit ran batches');
  const stockHeldOut = stock.epochLogKeys.map((keys) => keys.includes('val_loss'));
  assert.deepEqual(stockHeldOut, Array(model.epochs).fill(model.validation), 'stock: held-out metrics where the file asks for them');
  const tracedHeldOut = Array.from({ length: r.stepCount }, (_, s) => r.readStep(s).testLoss !== undefined);
  const expected = Array.from({ length: r.stepCount }, (_, s) => model.validation && epochEnds.includes(s));
  assert.deepEqual(tracedHeldOut, expected, 'held-out metrics at each epoch’s end, as stock fit logs them');
}

/** Flags any step raised: none is expected on these runs, whose losses fall. */
function healthAlarms(r: TraceReader): string[] {
  const alarms: string[] = [];
  for (let s = 0; s < r.stepCount; s++) {
    for (const h of healthOf(r.readStep(s), r.meta.model.layers)) {
      for (const flag of h.flags) alarms.push(`step ${s} layer ${h.layer}: ${flag}`);
    }
  }
  return alarms;
}

describe('the model corpus: traced as stock tfjs trains it', function () {
  this.timeout(60_000);

  for (const model of CORPUS) {
    describe(`${model.file}: ${model.what}`, () => {
      const file = corpusFile(model.file);
      let stock: StockRun;

      before(async () => {
        stock = await stockRun(file, literalSeed(fs.readFileSync(file, 'utf8')) ?? DEFAULT_SEED);
      });

      for (const backend of ['cpu', 'wasm']) {
        it(`on ${backend}: step 0 equals tfjs autodiff (cpu); steps, held-out metrics and callbacks as stock fit`, async () => {
          const { dir, printed, failure } = await traced(file, backend);
          try {
            assert.equal(failure, undefined, failure?.message);
            const r = TraceReader.open(dir);
            try {
              checkFirstStep(r, stock, backend === 'cpu' ? 2e-5 : 1e-4);
              checkFitSemantics(r, stock, model);
              assert.deepEqual(printed.map(shapeOf), stock.printed.map(shapeOf), 'the file’s callbacks printed what they print under stock fit');
              assert.equal(r.end?.state, 'finished');
              // Mean loss of the first epoch and of the last: batches differ, epochs compare.
              const perEpoch = model.stepsPerEpoch;
              const epochLoss = (e: number) => Array.from({ length: perEpoch }, (_, b) => r.entry(e * perEpoch + b).loss).reduce((a, b) => a + b) / perEpoch;
              const [first, last] = [epochLoss(0), epochLoss(model.epochs - 1)];
              assert.ok(last < first, `it learns: mean loss ${first} in the first epoch, ${last} in the last`);
              assert.deepEqual(healthAlarms(r), [], 'no health alarm on a run whose loss falls');
            } finally {
              r.close();
            }
          } finally {
            fs.rmSync(dir, { recursive: true, force: true });
          }
        });
      }
    });
  }
});
