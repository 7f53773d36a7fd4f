// LSTM, GRU and SimpleRNN traced as one layer each: whole sequences or the last step, with and
// without bias, other activations, stacked, reversed in time, after an embedding; the traced
// step's gradients (∂L/∂kernel, ∂L/∂recurrent_kernel, ∂L/∂bias, and through the layer to the one
// before it) equal tfjs autodiff of the stock model on the cpu backend, on each backend. What the
// tracer cannot follow is refused at the layer's line, with the reason.
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { LayerLocations, withLayerLocations } from '../../src/runner/layerLocations';
import { stackLocations } from '../../src/runner/runError';
import { SequentialTracer } from '../../src/runner/tracer/sequentialTracer';
import { resolveLoss } from '../../src/runner/tracer/losses';
import { TEST_BACKENDS, onCpu, tracerFor, useBackend } from './helpers/tracerHarness';
import { checkAgainstReference, referenceGrads } from './helpers/gradientCheck';

const init = (seed: number) => tf.initializers.glorotUniform({ seed });
/** Non-zero biases, so their gradient is checked against a bias that matters. */
const bias = (seed: number) => tf.initializers.randomUniform({ minval: -0.5, maxval: 0.5, seed });
const recurrent = (seed: number) => ({ kernelInitializer: init(seed), recurrentInitializer: tf.initializers.orthogonal({ seed: seed + 1 }), biasInitializer: bias(seed + 2) });

interface Case {
  name: string;
  layers: () => tf.layers.Layer[];
}

const TIME = 5;
const FEATURES = 3;

const CASES: Case[] = [
  { name: 'LSTM (last step)', layers: () => [tf.layers.lstm({ units: 4, ...recurrent(51) })] },
  { name: 'LSTM (returnSequences)', layers: () => [tf.layers.lstm({ units: 4, returnSequences: true, ...recurrent(51) }), tf.layers.flatten()] },
  { name: 'LSTM (no bias, sigmoid recurrent activation, unitForgetBias off)', layers: () => [tf.layers.lstm({ units: 4, useBias: false, recurrentActivation: 'sigmoid', unitForgetBias: false, ...recurrent(52) })] },
  { name: 'GRU (last step)', layers: () => [tf.layers.gru({ units: 4, ...recurrent(53) })] },
  { name: 'GRU (returnSequences, no bias)', layers: () => [tf.layers.gru({ units: 4, returnSequences: true, useBias: false, ...recurrent(54) }), tf.layers.flatten()] },
  { name: 'SimpleRNN (last step)', layers: () => [tf.layers.simpleRNN({ units: 4, ...recurrent(55) })] },
  { name: 'SimpleRNN (returnSequences, relu)', layers: () => [tf.layers.simpleRNN({ units: 4, returnSequences: true, activation: 'relu', ...recurrent(56) }), tf.layers.flatten()] },
  { name: 'stacked: LSTM → GRU → SimpleRNN', layers: () => [tf.layers.lstm({ units: 4, returnSequences: true, ...recurrent(57) }), tf.layers.gru({ units: 3, returnSequences: true, ...recurrent(60) }), tf.layers.simpleRNN({ units: 2, ...recurrent(63) })] },
  { name: 'LSTM (goBackwards)', layers: () => [tf.layers.lstm({ units: 4, goBackwards: true, returnSequences: true, ...recurrent(66) }), tf.layers.flatten()] },
  { name: 'GRU (goBackwards)', layers: () => [tf.layers.gru({ units: 4, goBackwards: true, ...recurrent(67) })] },
];

/** A dense layer before the recurrent one (so ∂L/∂input through it is checked), a softmax after. */
function modelFor(c: Case): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [TIME, FEATURES], units: FEATURES, kernelInitializer: init(50) }),
      ...c.layers(),
      tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: init(70) }),
    ],
  });
}

function batch(examples: number, seed: number): { xs: tf.Tensor; ys: tf.Tensor } {
  const xs = tf.randomNormal([examples, TIME, FEATURES], 0, 1, 'float32', seed);
  const labels = tf.tensor1d(Array.from({ length: examples }, (_, i) => (i * 5 + seed) % 3), 'int32');
  return { xs, ys: tf.oneHot(labels, 3).toFloat() };
}

for (const backend of TEST_BACKENDS) {
  describe(`recurrent layers on ${backend}: gradients equal tfjs autodiff of the stock layer (cpu)`, () => {
    before(async () => useBackend(backend));

    for (const c of CASES) {
      it(c.name, async () => {
        const model = modelFor(c);
        const { xs, ys } = batch(4, 9);
        const ref = await onCpu(() => referenceGrads(model, 'categoricalCrossentropy', xs, ys));
        checkAgainstReference(model, 'categoricalCrossentropy', ref, xs, ys, 0.05, 1e-4);
        model.dispose();
        tf.dispose([xs, ys]);
      });
    }

    it('one traced layer each, its parameters named as tfjs names them', () => {
      const model = modelFor(CASES[7]);
      const tracer = tracerFor(model, 'categoricalCrossentropy');
      assert.deepEqual(
        tracer.summary.layers.slice(1, 4).map((l) => [l.type, l.params.map((p) => `${p.name} ${p.shape.join('×')}`), l.nativeBackward]),
        [
          ['LSTM', ['kernel 3×16', 'recurrent_kernel 4×16', 'bias 16'], false],
          ['GRU', ['kernel 4×9', 'recurrent_kernel 3×9', 'bias 9'], false],
          ['SimpleRNN', ['kernel 3×2', 'recurrent_kernel 2×2', 'bias 2'], false],
        ],
      );
      assert.equal(tracer.summary.layers[1].paramFormula, '3 × 16 weights + 4 × 16 recurrent weights + 16 biases = 128');
      model.dispose();
    });

    it('a text model: token ids → Embedding → LSTM, the table’s gradient and the LSTM’s', async () => {
      const model = tf.sequential({
        layers: [
          tf.layers.embedding({ inputDim: 12, outputDim: 4, inputLength: TIME, embeddingsInitializer: tf.initializers.randomUniform({ minval: -1, maxval: 1, seed: 71 }) }),
          tf.layers.lstm({ units: 5, ...recurrent(72) }),
          tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: init(75) }),
        ],
      });
      const xs = tf.tensor2d([[0, 1, 2, 0, 3], [4, 0, 5, 6, 7], [8, 8, 0, 1, 11]], [3, TIME], 'int32');
      const ys = tf.oneHot(tf.tensor1d([0, 1, 2], 'int32'), 3).toFloat();
      const ref = await onCpu(() => referenceGrads(model, 'categoricalCrossentropy', xs, ys));
      checkAgainstReference(model, 'categoricalCrossentropy', ref, xs, ys, 0.05, 1e-4);
      model.dispose();
    });
  });
}

describe('recurrent layers: what is refused, at the layer’s line', () => {
  const isUserFile = (f: string) => /recurrentLayers\.test\.(ts|js)$/.test(f);
  /** The line that called it. */
  const here = () => stackLocations(new Error().stack)[1].line;

  // Each maker builds the layer and says the line it built it on.
  const refusals: [string, (userTf: typeof tf) => [tf.layers.Layer, number], RegExp][] = [
    ['stateful', (t) => [t.layers.lstm({ units: 2, stateful: true, batchInputShape: [4, TIME, FEATURES] }), here()], /\(LSTM\) cannot be traced: stateful recurrent layers are not traced yet/],
    ['dropout', (t) => [t.layers.lstm({ units: 2, dropout: 0.3 }), here()], /\(LSTM\) cannot be traced: dropout inside a recurrent layer is not traced yet \(forward and backward would see different masks\); put a Dropout layer after it/],
    ['recurrentDropout', (t) => [t.layers.simpleRNN({ units: 2, recurrentDropout: 0.3 }), here()], /\(SimpleRNN\) cannot be traced: recurrentDropout is not traced yet/],
    ['Bidirectional', (t) => [t.layers.bidirectional({ layer: t.layers.lstm({ units: 2 }) as tf.RNN }), here()], /\(Bidirectional\) cannot be traced: the Bidirectional wrapper is not traced yet/],
    ['an Embedding with maskZero (stock tfjs would hand its mask to the LSTM)', (t) => [t.layers.embedding({ inputDim: 10, outputDim: 3, inputLength: TIME, maskZero: true }), here()], /\(Embedding\) cannot be traced: maskZero is not traced yet \(its mask would not reach the layers after it\)/],
  ];

  for (const [name, make, reason] of refusals) {
    it(`${name}: refused at its line`, () => {
      const locations = new LayerLocations(isUserFile);
      const userTf = withLayerLocations(tf, locations);
      const [layer, line] = make(userTf);
      const stateful = name === 'stateful';
      const embedding = layer.getClassName() === 'Embedding';
      const first = stateful || embedding ? [] : [userTf.layers.dense({ inputShape: [TIME, FEATURES], units: FEATURES })];
      const model = userTf.sequential({ layers: [...first, layer, ...(embedding ? [userTf.layers.lstm({ units: 2 })] : [])] });
      assert.throws(
        () => new SequentialTracer(model, locations, resolveLoss('meanSquaredError'), tf.train.sgd(0.1)),
        (e: { runError?: { kind: string; message: string; location?: { line: number } } }) =>
          e.runError?.kind === 'unsupported-layer' && reason.test(e.runError.message) && e.runError.location?.line === line,
      );
      model.dispose();
    });
  }
});
