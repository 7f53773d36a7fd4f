// Functional models (tf.model) traced node by node in topological order: a chain, a residual
// add (the node both branches leave gets the sum of their gradients), a concatenation of two
// branches; gradients of the first step equal tfjs autodiff of the whole model on cpu, on each
// backend. What is not traced yet is refused, naming it.
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { phaseStops } from '../../src/shared/phases';
import { LayerLocations, withLayerLocations } from '../../src/runner/layerLocations';
import { stackLocations } from '../../src/runner/runError';
import { GraphTracer } from '../../src/runner/tracer/graphTracer';
import { resolveLoss } from '../../src/runner/tracer/losses';
import { TEST_BACKENDS, captured, graphTracerFor, onCpu, runStep, useBackend } from './helpers/tracerHarness';
import { checkAgainstReference, randomBatch, referenceGrads } from './helpers/gradientCheck';

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

describe('functional models: what is refused', () => {
  const isUserFile = (f: string) => /functionalModels\.test\.(ts|js)$/.test(f);

  it('a shared layer is refused at its line', () => {
    const locations = new LayerLocations(isUserFile);
    const userTf = withLayerLocations(tf, locations);
    const x = userTf.input({ shape: [4] });
    const shared = userTf.layers.dense({ units: 4 }); const sharedLine = stackLocations(new Error().stack)[0].line;
    const y = shared.apply(shared.apply(x)) as tf.SymbolicTensor;
    const model = userTf.model({ inputs: x, outputs: y });
    assert.throws(
      () => new GraphTracer(model, locations, resolveLoss('meanSquaredError'), tf.train.sgd(0.1)),
      (e: { runError?: { kind: string; message: string; location?: { line: number } } }) =>
        e.runError?.kind === 'unsupported-layer' && /used 2 times \(shared layers are not traced yet\)/.test(e.runError.message) && e.runError.location?.line === sharedLine,
    );
  });

  it('a model with two inputs is refused at the tf.model line', () => {
    const locations = new LayerLocations(isUserFile);
    const userTf = withLayerLocations(tf, locations);
    const a = userTf.input({ shape: [2] });
    const b = userTf.input({ shape: [3] });
    const joined = userTf.layers.concatenate().apply([a, b]) as tf.SymbolicTensor;
    const model = userTf.model({ inputs: [a, b], outputs: joined }); const modelLine = stackLocations(new Error().stack)[0].line;
    assert.throws(
      () => new GraphTracer(model, locations, resolveLoss('meanSquaredError'), tf.train.sgd(0.1)),
      (e: { runError?: { message: string; location?: { line: number } } }) => /with 2 inputs is not traced yet/.test(e.runError!.message) && e.runError?.location?.line === modelLine,
    );
  });
});
