// Functional models (tf.model) traced node by node in topological order: a chain, a residual
// add (the node both branches leave gets the sum of their gradients), a concatenation of two
// branches, two inputs, two outputs (their losses summed), a layer shared by two branches
// (siamese); gradients of the first step equal tfjs autodiff of the whole model on cpu, on
// each backend. The graph reaches the trace in the model summary; what is refused says why.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { RunnerClient, defaultRunnerPath } from '../../src/host/runnerClient';
import { TraceReader } from '../../src/trace/traceReader';
import { logLine } from './fixtures/fit/fitRecipe';
import { twoInputCase } from './fixtures/fit/twoInputRecipe';
import { twoOutputCase } from './fixtures/fit/twoOutputRecipe';
import { phaseStops } from '../../src/shared/phases';
import { LayerLocations, withLayerLocations } from '../../src/runner/layerLocations';
import { stackLocations } from '../../src/runner/runError';
import { GraphTracer } from '../../src/runner/tracer/graphTracer';
import { resolveLoss, resolveOutputLosses } from '../../src/runner/tracer/losses';
import { runMeta } from '../../src/shared/messageValidators';
import type { ModelSummary, RunMeta } from '../../src/shared/traceTypes';
import type { LossName } from '../../src/api/index';
import { TEST_BACKENDS, captured, graphTracerFor, onCpu, runStep, useBackend } from './helpers/tracerHarness';
import { checkAgainstReference, checkGraphAgainstReference, graphReferenceGrads, randomBatch, referenceGrads } from './helpers/gradientCheck';

interface Logged {
  event: string;
  index: number;
  logs: Record<string, number>;
}

const init = (seed: number) => tf.initializers.glorotUniform({ seed });

function chain(): tf.LayersModel {
  const x = tf.input({ shape: [6] });
  const h = tf.layers.dense({ units: 8, activation: 'relu', kernelInitializer: init(41) }).apply(x) as tf.SymbolicTensor;
  const y = tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: init(42) }).apply(h) as tf.SymbolicTensor;
  return tf.model({ inputs: x, outputs: y });
}

/** x → a → b, add(a, b) → softmax: a's output is read by b and by the add. */
function residual(): tf.LayersModel {
  const x = tf.input({ shape: [6] });
  const a = tf.layers.dense({ units: 8, activation: 'tanh', kernelInitializer: init(43) }).apply(x) as tf.SymbolicTensor;
  const b = tf.layers.dense({ units: 8, activation: 'relu', kernelInitializer: init(44) }).apply(a) as tf.SymbolicTensor;
  const sum = tf.layers.add().apply([a, b]) as tf.SymbolicTensor;
  const y = tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: init(45) }).apply(sum) as tf.SymbolicTensor;
  return tf.model({ inputs: x, outputs: y });
}

/** Two branches from a shared stem, concatenated. */
function branches(): tf.LayersModel {
  const x = tf.input({ shape: [6] });
  const stem = tf.layers.dense({ units: 6, activation: 'elu', kernelInitializer: init(46) }).apply(x) as tf.SymbolicTensor;
  const p = tf.layers.dense({ units: 4, activation: 'relu', kernelInitializer: init(47) }).apply(stem) as tf.SymbolicTensor;
  const q = tf.layers.dense({ units: 5, activation: 'sigmoid', kernelInitializer: init(48) }).apply(stem) as tf.SymbolicTensor;
  const joined = tf.layers.concatenate().apply([p, q]) as tf.SymbolicTensor;
  const y = tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: init(49) }).apply(joined) as tf.SymbolicTensor;
  return tf.model({ inputs: x, outputs: y });
}

for (const backend of TEST_BACKENDS) {
  describe(`functional models on ${backend}`, () => {
    before(async () => useBackend(backend));

    for (const [name, build] of [['a chain', chain], ['a residual add', residual], ['two branches concatenated', branches]] as const) {
      it(`${name}: node by node, gradients equal tfjs autodiff (cpu)`, async () => {
        const model = build();
        const { xs, ys } = randomBatch([5, 6], 3, 7);
        const ref = await onCpu(() => referenceGrads(model, 'categoricalCrossentropy', xs, ys));
        checkAgainstReference(model, 'categoricalCrossentropy', ref, xs, ys, 0.05, 1e-4, graphTracerFor);
        model.dispose();
      });
    }

    it('a node two branches read gets the sum of their gradients', () => {
      const model = residual();
      const { xs, ys } = randomBatch([4, 6], 3, 8);
      const { stops, outcome } = runStep(graphTracerFor(model, 'categoricalCrossentropy', tf.train.sgd(0)), xs, ys);
      assert.deepEqual(stops, phaseStops(4));
      // Node 0 (a) is read by node 1 (b) and node 2 (add): ∂L/∂a = ∂L/∂sum + (∂L/∂a through b).
      const dSum = captured(outcome, 2, 'gradActivation');
      const dA = captured(outcome, 0, 'gradActivation');
      const throughB = tf.tidy(() => {
        const a = tf.tensor(captured(outcome, 0, 'activation'), [4, 8]);
        return tf.grad((v: tf.Tensor) => tf.sum(tf.mul(model.layers[2].apply(v) as tf.Tensor, tf.tensor(dSum, [4, 8]))))(a).dataSync();
      });
      dA.forEach((v, i) => assert.ok(Math.abs(v - (dSum[i] + throughB[i])) < 1e-5, `element ${i}`));
      outcome.scope.dispose();
    });
  });
}

const symbolic = (t: unknown) => t as tf.SymbolicTensor;

/** Two inputs, each through its own dense layer, concatenated, then a classifier. */
function twoInputs(): tf.LayersModel {
  const a = tf.input({ shape: [6], name: 'left' });
  const b = tf.input({ shape: [4], name: 'right' });
  const pa = symbolic(tf.layers.dense({ units: 5, activation: 'relu', kernelInitializer: init(51) }).apply(a));
  const pb = symbolic(tf.layers.dense({ units: 3, activation: 'tanh', kernelInitializer: init(52) }).apply(b));
  const joined = symbolic(tf.layers.concatenate().apply([pa, pb]));
  const y = symbolic(tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: init(53) }).apply(joined));
  return tf.model({ inputs: [a, b], outputs: y });
}

/** One trunk, two heads: a classifier (cross-entropy) and a regressor (squared error). */
function twoOutputs(): tf.LayersModel {
  const x = tf.input({ shape: [6] });
  const trunk = symbolic(tf.layers.dense({ units: 8, activation: 'relu', kernelInitializer: init(54) }).apply(x));
  const classes = symbolic(tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: init(55), name: 'classes' }).apply(trunk));
  const value = symbolic(tf.layers.dense({ units: 1, kernelInitializer: init(56), name: 'value' }).apply(trunk));
  return tf.model({ inputs: x, outputs: [classes, value] });
}

/** Siamese: the same two layers embed both inputs; the embeddings are concatenated and compared. */
function siamese(): { model: tf.LayersModel; embed: tf.layers.Layer; project: tf.layers.Layer } {
  const a = tf.input({ shape: [6], name: 'first' });
  const b = tf.input({ shape: [6], name: 'second' });
  const embed = tf.layers.dense({ units: 5, activation: 'tanh', kernelInitializer: init(57), name: 'embed' });
  const project = tf.layers.dense({ units: 4, activation: 'relu', kernelInitializer: init(58), name: 'project' });
  const ea = symbolic(project.apply(embed.apply(a)));
  const eb = symbolic(project.apply(embed.apply(b)));
  const joined = symbolic(tf.layers.concatenate().apply([ea, eb]));
  const same = symbolic(tf.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: init(59) }).apply(joined));
  return { model: tf.model({ inputs: [a, b], outputs: same }), embed, project };
}

function graphTracer(model: tf.LayersModel, losses: LossName[], lr = 0.1): GraphTracer {
  return new GraphTracer(model, new LayerLocations(() => false), resolveOutputLosses(losses, model.outputNames), tf.train.sgd(lr));
}

const binaryTargets = (n: number, seed: number) => tf.tensor2d(Array.from({ length: n }, (_, i) => ((i * 5 + seed) % 3 === 0 ? 1 : 0)), [n, 1]);

interface GraphCase {
  name: string;
  build: () => tf.LayersModel;
  losses: LossName[];
  batch: () => { xs: tf.Tensor[]; ys: tf.Tensor[] };
}

const GRAPH_CASES: GraphCase[] = [
  {
    name: 'two inputs concatenated',
    build: twoInputs,
    losses: ['categoricalCrossentropy'],
    batch: () => ({ xs: [tf.randomNormal([5, 6], 0, 1, 'float32', 1), tf.randomNormal([5, 4], 0, 1, 'float32', 2)], ys: [randomBatch([5, 6], 3, 9).ys] }),
  },
  {
    name: 'two outputs, their losses summed',
    build: twoOutputs,
    losses: ['categoricalCrossentropy', 'meanSquaredError'],
    batch: () => ({ xs: [tf.randomNormal([5, 6], 0, 1, 'float32', 3)], ys: [randomBatch([5, 6], 3, 10).ys, tf.randomNormal([5, 1], 0, 1, 'float32', 4)] }),
  },
  {
    name: 'two layers shared by two branches (siamese)',
    build: () => siamese().model,
    losses: ['binaryCrossentropy'],
    batch: () => ({ xs: [tf.randomNormal([6, 6], 0, 1, 'float32', 5), tf.randomNormal([6, 6], 0, 1, 'float32', 6)], ys: [binaryTargets(6, 1)] }),
  },
  {
    name: 'a residual add',
    build: residual,
    losses: ['categoricalCrossentropy'],
    batch: () => ({ xs: [randomBatch([5, 6], 3, 11).xs], ys: [randomBatch([5, 6], 3, 11).ys] }),
  },
];

for (const backend of TEST_BACKENDS) {
  describe(`functional graphs on ${backend}: several inputs, outputs, shared layers`, () => {
    before(async () => useBackend(backend));

    for (const c of GRAPH_CASES) {
      it(`${c.name}: node by node, gradients equal tf.variableGrads of the whole model (cpu)`, async () => {
        const model = c.build();
        const { xs, ys } = c.batch();
        const ref = await onCpu(() => graphReferenceGrads(model, c.losses, xs, ys));
        checkGraphAgainstReference(graphTracer(model, c.losses, 0.05), model, ref, xs, ys, 0.05, 1e-4);
        tf.dispose([...xs, ...ys]);
        model.dispose();
      });
    }

    it('a shared layer: one node per call, each with its own activation; the parameters once, at the first call', () => {
      const { model, embed } = siamese();
      const tracer = graphTracer(model, ['binaryCrossentropy'], 0);
      const nodes = tracer.summary.layers;
      assert.deepEqual(nodes.map((n) => n.name), ['embed@0', 'embed@1', 'project@0', 'project@1', nodes[4].name, nodes[5].name]);
      assert.deepEqual(nodes.map((n) => n.sharesParamsWith), [undefined, 0, undefined, 2, undefined, undefined]);
      assert.deepEqual(nodes.map((n) => n.call), [0, 1, 0, 1, undefined, undefined]);
      assert.equal(nodes[1].paramCount, 0);
      assert.match(nodes[1].paramFormula, /the 35 parameters of embed@0/);
      assert.equal(tracer.summary.totalParams, model.countParams(), 'shared parameters are counted once');
      const xs = [tf.randomNormal([3, 6], 0, 1, 'float32', 7), tf.randomNormal([3, 6], 0, 1, 'float32', 8)];
      const { outcome } = runStep(tracer, xs, binaryTargets(3, 2));
      const first = captured(outcome, 0, 'activation');
      const second = captured(outcome, 1, 'activation');
      const expected = tf.tidy(() => [embed.apply(xs[0]), embed.apply(xs[1])].map((t) => (t as tf.Tensor).dataSync()));
      assert.ok(first.every((v, i) => Math.abs(v - expected[0][i]) < 1e-6) && second.every((v, i) => Math.abs(v - expected[1][i]) < 1e-6), 'each call recorded with its own input');
      assert.equal(outcome.scope.captures.filter((c) => c.role === 'gradParam' && (c.layer === 1 || c.layer === 3)).length, 0, 'no gradient recorded at a later call');
      assert.equal(outcome.scope.captures.filter((c) => c.role === 'gradParam' && c.layer === 0).length, 2, 'kernel and bias at the first call');
      outcome.scope.dispose();
      tf.dispose(xs);
      model.dispose();
    });

    it('where two branches read a node, each one’s part of its gradient is recorded by name, and they sum to it', () => {
      const model = twoOutputs();
      const tracer = graphTracer(model, ['categoricalCrossentropy', 'meanSquaredError'], 0);
      const xs = tf.randomNormal([4, 6], 0, 1, 'float32', 12);
      const { outcome } = runStep(tracer, xs, [randomBatch([4, 6], 3, 13).ys, tf.randomNormal([4, 1], 0, 1, 'float32', 14)]);
      const parts = outcome.scope.captures.filter((c) => c.role === 'gradContribution' && c.layer === 0);
      assert.deepEqual(parts.map((p) => p.param).sort(), ['classes', 'value'], 'the trunk hears from both heads');
      const sum = tf.tidy(() => tf.add(parts[0].tensor!, parts[1].tensor!).dataSync());
      const total = captured(outcome, 0, 'gradActivation');
      total.forEach((v, i) => assert.ok(Math.abs(v - sum[i]) < 1e-6, `element ${i}`));
      assert.equal(outcome.scope.captures.filter((c) => c.role === 'gradContribution' && c.layer !== 0).length, 0, 'single-reader nodes record no parts');
      assert.equal(outcome.outputLosses?.length, 2);
      assert.ok(Math.abs(outcome.outputLosses![0] + outcome.outputLosses![1] - outcome.loss) < 1e-6, 'the loss is the sum of the outputs’ losses');
      outcome.scope.dispose();
      model.dispose();
    });
  });
}

describe('functional graphs: the graph in the model summary', () => {
  const metaWith = (model: ModelSummary): RunMeta => ({
    formatVersion: 1,
    runId: 'r',
    file: '/m.ts',
    createdAt: '2026-01-01T00:00:00Z',
    backend: { name: 'cpu', reason: 'test' },
    model,
    config: { batchSize: 4, steps: 1, seed: 1, loss: 'mse', optimizer: 'SGD', evalEvery: 0, capture: { summaries: true, sampleIndices: [0], keyframeEvery: 1, stepBudgetBytes: 1, keyframeBudgetBytes: 1 } },
    tfjsVersion: tf.version.tfjs,
  });

  it('two inputs: named inputs, one edge per read, the output node; the meta validator accepts it', () => {
    const model = twoInputs();
    const { summary } = graphTracer(model, ['categoricalCrossentropy']);
    const g = summary.graph!;
    assert.deepEqual(g.inputs, [{ name: 'left', shape: [null, 6] }, { name: 'right', shape: [null, 4] }]);
    assert.deepEqual(
      g.edges.map((e) => `${e.fromInput ? 'in' : 'n'}${e.from}→${e.to}.${e.slot}`),
      ['in0→0.0', 'in1→1.0', 'n0→2.0', 'n1→2.1', 'n2→3.0'],
    );
    assert.deepEqual(g.outputs, [{ node: 3, name: model.outputNames[0] }]);
    assert.equal(runMeta(metaWith(summary), 'meta').model.graph?.edges.length, 5);
    model.dispose();
  });

  it('the meta validator refuses an edge to a node that does not exist, naming the field', () => {
    const model = twoInputs();
    const { summary } = graphTracer(model, ['categoricalCrossentropy']);
    const bad = { ...summary, graph: { ...summary.graph!, edges: [...summary.graph!.edges, { from: 0, to: 9, slot: 0 }] } };
    assert.throws(() => runMeta(metaWith(bad), 'meta'), /meta\.model\.graph\.edges\[5\]\.to: expected a node index below 4, got number 9/);
    model.dispose();
  });
});

describe('functional graphs: what is refused', () => {
  it('a loss array that does not match the outputs, naming them', () => {
    const model = twoOutputs();
    assert.throws(() => resolveOutputLosses(['meanSquaredError'], model.outputNames), /an array of 1, but the model has 2 output\(s\) \(classes, value\)/);
    assert.throws(() => resolveOutputLosses({ classes: 'meanSquaredError' }, model.outputNames), /no entry for output 'value'/);
    assert.throws(() => resolveOutputLosses({ clases: 'meanSquaredError', value: 'hinge' }, model.outputNames), /names output\(s\) 'clases'/);
    model.dispose();
  });

  it('data with the wrong number of input tensors, at the tf.model line', () => {
    const isUserFile = (f: string) => /functionalModels\.test\.(ts|js)$/.test(f);
    const locations = new LayerLocations(isUserFile);
    const userTf = withLayerLocations(tf, locations);
    const a = userTf.input({ shape: [2] });
    const b = userTf.input({ shape: [3] });
    const joined = userTf.layers.concatenate().apply([a, b]) as tf.SymbolicTensor;
    const model = userTf.model({ inputs: [a, b], outputs: joined }); const modelLine = stackLocations(new Error().stack)[0].line;
    const tracer = new GraphTracer(model, locations, resolveLoss('meanSquaredError'), tf.train.sgd(0.1));
    const x = tf.zeros([2, 2]);
    assert.throws(
      () => runStep(tracer, x, tf.zeros([2, 5])),
      (e: { runError?: { message: string; location?: { line: number } } }) => /has 2 inputs, but the data gives 1 input tensor/.test(e.runError!.message) && e.runError?.location?.line === modelLine,
    );
    x.dispose();
    model.dispose();
  });
});

/**
 * Stock tfjs's model.fit on cpu, as the fit fixtures call it, its callbacks recording what they
 * saw. `heldOut`: val_ metrics recomputed from the model's predictions at each epoch's end, where
 * stock's are wrong (see twoOutputHeldOut).
 */
async function stockFit(build: () => { model: tf.LayersModel; xs: unknown; ys: unknown }, heldOut?: (model: tf.LayersModel) => Record<string, number>): Promise<Logged[]> {
  await useBackend('cpu');
  const { model, xs, ys } = build();
  const lines: Logged[] = [];
  await model.fit(xs as tf.Tensor, ys as tf.Tensor, {
    epochs: 2,
    batchSize: 16,
    validationSplit: 0.2,
    shuffle: false,
    callbacks: {
      onBatchEnd: (batch, logs) => void lines.push(JSON.parse(logLine('batchEnd', batch, logs)) as Logged),
      onEpochEnd: (epoch, logs) => void lines.push(JSON.parse(logLine('epochEnd', epoch, { ...logs, ...heldOut?.(model) })) as Logged),
    },
  });
  model.dispose();
  return lines;
}

/**
 * The two-output case's held-out metrics from the stock-trained model's predictions on the
 * split's last 9 examples. Stock tfjs 4.22's test function pushes the running total after each
 * output's loss and then the per-output losses again, so its val_ logs are shifted for a model
 * with several outputs (val_loss is the first output's loss alone); the tracer logs what the
 * names say, checked against this.
 */
function twoOutputHeldOut(model: tf.LayersModel): Record<string, number> {
  return tf.tidy(() => {
    const { xs, ys } = twoOutputCase();
    const x = tf.slice(xs, 36, 9);
    const [classes, value] = model.predict(x) as tf.Tensor[];
    const yc = tf.slice(ys.classes, 36, 9);
    const yv = tf.slice(ys.value, 36, 9);
    const ce = tf.mean(tf.metrics.categoricalCrossentropy(yc, classes)).dataSync()[0];
    const se = tf.mean(tf.metrics.meanSquaredError(yv, value)).dataSync()[0];
    const acc = tf.mean(tf.metrics.categoricalAccuracy(yc, classes)).dataSync()[0];
    return { val_loss: ce + se, val_classes_loss: ce, val_value_loss: se, val_classes_acc: acc };
  });
}

const FIT_CASES = [
  { name: 'two inputs given by name ({ left, right })', fixture: 'twoInputFit.ts', build: twoInputCase, valKeys: ['val_loss', 'val_acc'], graph: (g: NonNullable<ModelSummary['graph']>) => assert.deepEqual(g.inputs.map((i) => i.name), ['left', 'right']) },
  { name: 'two outputs, a loss each, targets by name', fixture: 'twoOutputFit.ts', build: twoOutputCase, heldOut: twoOutputHeldOut, valKeys: ['val_loss', 'val_classes_loss', 'val_value_loss', 'val_classes_acc'], graph: (g: NonNullable<ModelSummary['graph']>) => assert.deepEqual(g.outputs.map((o) => o.name), ['classes', 'value']) },
];

describe('functional graphs: model.fit as stock tfjs runs it', function () {
  this.timeout(120_000);

  for (const c of FIT_CASES) {
    describe(c.name, () => {
      let expected: Logged[];
      before(async () => {
        expected = await stockFit(c.build, 'heldOut' in c ? c.heldOut : undefined);
      });

      for (const backend of TEST_BACKENDS) {
        it(`validationSplit, partial last batch: the same steps, logs and val metrics as stock fit (${backend})`, async () => {
          const runner = RunnerClient.spawn({ runnerPath: defaultRunnerPath(), backend });
          const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gl-graph-fit-'));
          const lines: Logged[] = [];
          runner.onMessage((m) => {
            if (m.type === 'log' && m.text.startsWith('{"event"')) lines.push(JSON.parse(m.text) as Logged);
          });
          await runner.start({ file: path.resolve(__dirname, '../../../test/unit/fixtures/fit', c.fixture), outDir: dir, typeCheck: 'off' });
          await runner.exited;
          // 45 examples, 20% held out → 36 train → batches of 16, 16 and 4.
          assert.equal(expected.filter((l) => l.event === 'batchEnd').length, 6, 'stock: ceil(36 / 16) = 3 batches an epoch');
          assert.deepEqual(lines.map((l) => `${l.event} ${l.index}`), expected.map((l) => `${l.event} ${l.index}`), 'the same callbacks, in order');
          lines.forEach((l, i) => {
            assert.deepEqual(Object.keys(l.logs).sort(), Object.keys(expected[i].logs).sort(), `${l.event} ${l.index}: the same log keys`);
            for (const [key, value] of Object.entries(expected[i].logs)) {
              assert.ok(Math.abs(l.logs[key] - value) <= (backend === 'cpu' ? 2e-5 : 1e-4), `${l.event} ${l.index} ${key}: traced ${l.logs[key]}, stock ${value}`);
            }
          });
          for (const l of expected.filter((e) => e.event === 'epochEnd')) for (const key of c.valKeys) assert.ok(key in l.logs, `stock logs ${key}`);
          const r = TraceReader.open(dir);
          assert.equal(r.stepCount, 6);
          assert.equal(r.end?.state, 'finished');
          c.graph(r.meta.model.graph!);
          assert.deepEqual([0, 1, 2, 3, 4, 5].map((s) => r.entry(s).testAccuracy !== null), [false, false, true, false, false, true], 'held-out metrics at each epoch’s end');
          r.close();
          fs.rmSync(dir, { recursive: true, force: true });
        });
      }
    });
  }
});
