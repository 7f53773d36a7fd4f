// The tracer's own backward passes against tfjs autodiff (computed on the cpu backend, which has
// every gradient kernel), on each backend the tracer runs on.
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { conv2dFilterGrad, conv2dInputGrad, samePadding, type ConvConfig } from '../../src/runner/tracer/layers/conv2d';
import { resolveLoss } from '../../src/runner/tracer/losses';
import { TEST_BACKENDS, captured, maxAbsDiff, onCpu, runStep, tracerFor, useBackend } from './helpers/tracerHarness';
import { checkAgainstReference, randomBatch, referenceGrads } from './helpers/gradientCheck';

/**
 * ∂/∂x of Σ conv2d(x, w)·dz by the definition, one tap at a time (no tfjs gradient: tfjs has
 * none for dilated convolutions): x[b, o·s + t·d − pad, c] feeds z[b, o, k] with weight w[t, c, k].
 */
function naiveInputGrad(xShape: number[], w: tf.Tensor4D, dz: tf.Tensor4D, cfg: ConvConfig): Float32Array {
  const [n, h, wd, ci] = xShape;
  const [kh, kw, , co] = w.shape;
  const [, oh, ow] = dz.shape;
  const top = cfg.padding === 'same' ? samePadding(h, kh, cfg.strides[0], cfg.dilation[0])[0] : 0;
  const left = cfg.padding === 'same' ? samePadding(wd, kw, cfg.strides[1], cfg.dilation[1])[0] : 0;
  const W = w.dataSync();
  const D = dz.dataSync();
  const dx = new Float32Array(n * h * wd * ci);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++)
        for (let p = 0; p < kh; p++)
          for (let q = 0; q < kw; q++) {
            const r = i * cfg.strides[0] + p * cfg.dilation[0] - top;
            const c = j * cfg.strides[1] + q * cfg.dilation[1] - left;
            if (r < 0 || r >= h || c < 0 || c >= wd) continue;
            for (let ch = 0; ch < ci; ch++)
              for (let k = 0; k < co; k++) dx[((b * h + r) * wd + c) * ci + ch] += W[((p * kw + q) * ci + ch) * co + k] * D[((b * oh + i) * ow + j) * co + k];
          }
  return dx;
}

function mlp(): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [12], units: 16, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
      tf.layers.dense({ units: 8, activation: 'tanh', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
      tf.layers.dense({ units: 8, activation: 'sigmoid', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
      tf.layers.dense({ units: 4, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }),
    ],
  });
}

function convNet(padding: 'same' | 'valid', strides: number): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [9, 9, 2], filters: 3, kernelSize: 3, strides, padding, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }) }),
      tf.layers.batchNormalization(),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 6 }) }),
    ],
  });
}

for (const backend of TEST_BACKENDS) {
  describe(`tracer gradients on ${backend}`, () => {
    before(async () => useBackend(backend));

    it('dense MLP (relu, tanh, sigmoid, softmax): ∂L/∂W and ∂L/∂b equal tf.variableGrads; ΔW is what SGD applied', async () => {
      const model = mlp();
      const { xs, ys } = randomBatch([10, 12], 4, 3);
      const ref = await onCpu(() => referenceGrads(model, 'categoricalCrossentropy', xs, ys));
      checkAgainstReference(model, 'categoricalCrossentropy', ref, xs, ys, 0.05, 1e-4);
    });

    for (const [padding, strides] of [['same', 1], ['valid', 2], ['same', 2]] as const) {
      // On wasm this also pins MaxPoolingTracer's fix: tfjs-wasm's own MaxPool gradient is wrong
      // for windows whose maximum is negative, which batch norm's output always has.
      it(`conv2d (${padding}, stride ${strides}) + batch norm + max pooling + flatten + dense`, async () => {
        const model = convNet(padding, strides);
        const { xs, ys } = randomBatch([4, 9, 9, 2], 3, 11);
        // Reference on cpu: tfjs-wasm cannot even compute it (no Conv2DBackpropFilter kernel).
        const ref = await onCpu(() => referenceGrads(model, 'categoricalCrossentropy', xs, ys));
        checkAgainstReference(model, 'categoricalCrossentropy', ref, xs, ys, 0.01, 1e-3);
      });
    }

    // 4 filters: the swapped conv; 16 (kh·kw·ci = 12 ≤ 2·16): the patches and one matMul.
    for (const filters of [4, 16]) {
      it(`conv2d filter gradient without Conv2DBackpropFilter matches tf.grad on cpu (${filters} filters)`, async () => {
        const x = tf.randomNormal([3, 8, 7, 2], 0, 1, 'float32', 1) as tf.Tensor4D;
        const w = tf.randomNormal([3, 2, 2, filters], 0, 1, 'float32', 2) as tf.Tensor4D;
        for (const [strides, padding] of [[1, 'same'], [1, 'valid'], [2, 'valid'], [2, 'same']] as const) {
          const dz = tf.tidy(() => tf.randomNormal(tf.conv2d(x, w, strides, padding).shape, 0, 1, 'float32', 3)) as tf.Tensor4D;
          const mine = conv2dFilterGrad(x, dz, { strides: [strides, strides], padding, dilation: [1, 1], kernelSize: [3, 2] }).dataSync();
          const expected = await onCpu(() => tf.grad((f: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, f as tf.Tensor4D, strides, padding), dz)))(w).dataSync());
          assert.ok(maxAbsDiff(mine, expected) < 1e-3, `${padding}/${strides}: ${maxAbsDiff(mine, expected)}`);
        }
      });
    }

    it('conv2d input gradient without Conv2DBackpropInput matches the definition (strides, padding, dilation)', () => {
      const x = tf.randomNormal([2, 9, 8, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
      const w = tf.randomNormal([3, 2, 3, 4], 0, 1, 'float32', 5) as tf.Tensor4D;
      const cases: [number, number, 'same' | 'valid', number][] = [[1, 1, 'valid', 1], [1, 1, 'same', 1], [2, 2, 'valid', 1], [2, 3, 'same', 1], [3, 2, 'valid', 1], [1, 1, 'same', 2], [1, 1, 'valid', 2]];
      for (const [sh, sw, padding, d] of cases) {
        const cfg: ConvConfig = { strides: [sh, sw], padding, dilation: [d, d], kernelSize: [3, 2] };
        const dz = tf.tidy(() => tf.randomNormal(tf.conv2d(x, w, [sh, sw], padding, 'NHWC', d).shape, 0, 1, 'float32', 6)) as tf.Tensor4D;
        const mine = tf.tidy(() => conv2dInputGrad(dz, w, x.shape, cfg));
        assert.deepEqual(mine.shape, x.shape);
        const diff = maxAbsDiff(mine.dataSync(), naiveInputGrad(x.shape, w, dz, cfg));
        assert.ok(diff < 1e-4, `strides ${sh}×${sw}, ${padding}, dilation ${d}: ${diff}`);
        tf.dispose([dz, mine]);
      }
    });

    it('∂L/∂activation matches a finite-difference check', () => {
      const model = tf.sequential({
        layers: [
          tf.layers.dense({ inputShape: [3], units: 4, activation: 'tanh', kernelInitializer: tf.initializers.randomNormal({ seed: 7 }) }),
          tf.layers.dense({ units: 2, activation: 'linear', kernelInitializer: tf.initializers.randomNormal({ seed: 8 }) }),
        ],
      });
      const xs = tf.tensor2d([[0.5, -1, 2], [1, 0.3, -0.7]]);
      const ys = tf.tensor2d([[1, -1], [0.5, 2]]);
      const loss = resolveLoss('meanSquaredError');
      // L as a function of the hidden activation a (layer 0's output), everything else fixed.
      const a = (model.layers[0].apply(xs) as tf.Tensor).dataSync().slice() as Float32Array;
      const lossAt = (values: Float32Array) =>
        tf.tidy(() => loss.fn(ys, model.layers[1].apply(tf.tensor2d(values, [2, 4])) as tf.Tensor).dataSync()[0]);
      const eps = 1e-2;
      const numeric = Float32Array.from(a, (_, i) => {
        const up = a.slice();
        const down = a.slice();
        up[i] += eps;
        down[i] -= eps;
        return (lossAt(up) - lossAt(down)) / (2 * eps);
      });
      const tracer = tracerFor(model, 'meanSquaredError', tf.train.sgd(0));
      const { outcome } = runStep(tracer, xs, ys);
      const traced = captured(outcome, 0, 'gradActivation');
      assert.ok(maxAbsDiff(traced, numeric) < 2e-3, `max diff ${maxAbsDiff(traced, numeric)}`);
      outcome.scope.dispose();
    });

    it('dropout: the backward pass reuses the forward mask', () => {
      const model = tf.sequential({
        layers: [
          tf.layers.dense({ inputShape: [6], units: 32, activation: 'relu', kernelInitializer: tf.initializers.ones() }),
          tf.layers.dropout({ rate: 0.5 }),
          tf.layers.dense({ units: 2, kernelInitializer: tf.initializers.ones() }),
        ],
      });
      const xs = tf.ones([4, 6]);
      const ys = tf.zeros([4, 2]);
      const { outcome } = runStep(tracerFor(model, 'meanSquaredError', tf.train.sgd(0)), xs, ys);
      const dropped = captured(outcome, 1, 'activation');
      const before = captured(outcome, 0, 'activation');
      const zeros = dropped.filter((v) => v === 0).length / dropped.length;
      assert.ok(zeros > 0.3 && zeros < 0.7, `about half dropped (${zeros})`);
      dropped.forEach((v, i) => assert.ok(v === 0 || Math.abs(v - before[i] * 2) < 1e-4, 'kept units scaled by 1/(1−rate)'));
      // ∂L/∂W of the first layer is zero exactly where every example dropped the unit.
      const grad = captured(outcome, 0, 'gradParam', 'kernel');
      for (let unit = 0; unit < 32; unit++) {
        const droppedEverywhere = [0, 1, 2, 3].every((b) => dropped[b * 32 + unit] === 0);
        if (droppedEverywhere) assert.equal(grad[unit], 0, `unit ${unit} dropped in every example gets no gradient`);
      }
      outcome.scope.dispose();
    });

    it('says which layer it cannot trace, and why', () => {
      const model = tf.sequential({ layers: [tf.layers.simpleRNN({ inputShape: [3, 2], units: 2, recurrentDropout: 0.1 }), tf.layers.dense({ units: 1 })] });
      assert.throws(() => tracerFor(model, 'meanSquaredError'), /Layer 0 '.*' \(SimpleRNN\) cannot be traced: recurrentDropout is not traced yet/);
    });
  });
}

