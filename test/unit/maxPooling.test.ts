// Max pooling's backward against the cpu backend's MaxPoolGrad, exactly, on the windows that
// used to go wrong: values one float32 step apart (the old shift x + 1 − min(x) merged them),
// exact ties (the first in row-major order wins, as on cpu) and all-negative windows (which
// tfjs-wasm's own gradient drops), on each backend the tracer runs on.
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { maxPoolInputGrad } from '../../src/runner/tracer/layers/maxPooling';
import { TEST_BACKENDS, maxAbsDiff, onCpu, useBackend } from './helpers/tracerHarness';
import { checkAgainstReference, referenceGrads } from './helpers/gradientCheck';

/** The next float32 above v. */
function nextUp(v: number): number {
  const f = new Float32Array([v]);
  const bits = new Int32Array(f.buffer);
  bits[0] += v >= 0 ? 1 : -1;
  return f[0];
}

/**
 * Values in ±[0.5, 3] where each element's right-hand neighbour is the next float32 above it
 * (shifting by 1 − min(x) merges the two, so the gradient went left), an exact tie, or a random
 * negative value; the first third of the rows all negative.
 */
function hardInput(shape: [number, number, number, number], seed: number): tf.Tensor4D {
  let state = seed;
  const random = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const [n, h, w, c] = shape;
  const values = new Float32Array(n * h * w * c);
  const at = (b: number, r: number, col: number, ch: number) => ((b * h + r) * w + col) * c + ch;
  for (let b = 0; b < n; b++) {
    for (let r = 0; r < h; r++) {
      for (let col = 0; col < w; col++) {
        for (let ch = 0; ch < c; ch++) {
          const left = col > 0 ? values[at(b, r, col - 1, ch)] : 0;
          const kind = col % 2 === 0 ? -1 : (r + ch + b) % 3;
          let v = kind === 0 ? nextUp(left) : kind === 1 ? left : kind === 2 ? -0.5 - 2.5 * random() : (random() < 0.5 ? -1 : 1) * (0.5 + 2.5 * random());
          if (r < h / 3 && v > 0) v = kind === 0 ? nextUp(left) : -v;
          values[at(b, r, col, ch)] = v;
        }
      }
    }
  }
  return tf.tensor4d(values, shape);
}

interface PoolCase {
  pool: [number, number];
  strides: [number, number];
  padding: 'valid' | 'same';
}

const CASES: PoolCase[] = [
  { pool: [2, 2], strides: [2, 2], padding: 'valid' },
  { pool: [3, 3], strides: [1, 1], padding: 'same' },
  { pool: [3, 3], strides: [2, 2], padding: 'valid' },
  { pool: [2, 3], strides: [2, 1], padding: 'same' },
  { pool: [3, 2], strides: [3, 2], padding: 'same' },
];

for (const backend of TEST_BACKENDS) {
  describe(`max pooling's gradient on ${backend}`, () => {
    before(async () => useBackend(backend));

    for (const c of CASES) {
      it(`pool ${c.pool.join('×')}, stride ${c.strides.join('×')}, ${c.padding}: equals the cpu backend's MaxPoolGrad on near-tied and negative windows`, async () => {
        const x = hardInput([2, 7, 6, 3], c.pool[0] * 10 + c.strides[0]);
        const y = tf.maxPool(x, c.pool, c.strides, c.padding);
        const dY = tf.randomNormal(y.shape, 0, 1, 'float32', 5) as tf.Tensor4D;
        const mine = maxPoolInputGrad(x, y, dY, c).dataSync();
        const expected = await onCpu(() => tf.grad((v: tf.Tensor) => tf.maxPool(v as tf.Tensor4D, c.pool, c.strides, c.padding))(x, dY).dataSync());
        assert.ok(maxAbsDiff(mine, expected) < 1e-6, `max diff ${maxAbsDiff(mine, expected)}`);
        // Every window routes its whole gradient: nothing is dropped or duplicated.
        const total = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v, 0);
        assert.ok(Math.abs(total(mine) - total(dY.dataSync())) < 1e-4);
        tf.dispose([x, y, dY]);
      });
    }

    it('in a model (1D and 2D): the layer before gets the cpu backend’s gradient through the pooling', async () => {
      for (const rank of [3, 4]) {
        // A 1×1 convolution that passes the hard input through unchanged (identity kernel, no
        // bias), so the pooling sees the near-ties; its ∂L/∂W is made of ∂L/∂input of the pooling.
        const channels = 3;
        const identity = tf.reshape(tf.eye(channels), rank === 4 ? [1, 1, channels, channels] : [1, channels, channels]);
        const first =
          rank === 4
            ? tf.layers.conv2d({ inputShape: [6, 6, channels], filters: channels, kernelSize: 1, useBias: false })
            : tf.layers.conv1d({ inputShape: [7, channels], filters: channels, kernelSize: 1, useBias: false });
        const pool = rank === 4 ? tf.layers.maxPooling2d({ poolSize: 2 }) : tf.layers.maxPooling1d({ poolSize: 3, strides: 2 });
        const model = tf.sequential({ layers: [first, pool, tf.layers.flatten(), tf.layers.dense({ units: 2, kernelInitializer: tf.initializers.glorotUniform({ seed: 8 }) })] });
        first.setWeights([identity]);
        // 1D: the near-ties run along the sequence.
        const xs = rank === 4 ? hardInput([3, 6, 6, channels], 3) : tf.reshape(hardInput([3, 1, 7, channels], 3), [3, 7, channels]);
        const ys = tf.randomNormal([3, 2], 0, 1, 'float32', 4);
        const ref = await onCpu(() => referenceGrads(model, 'meanSquaredError', xs, ys));
        checkAgainstReference(model, 'meanSquaredError', ref, xs, ys, 0.01, 1e-5);
        model.dispose();
      }
    });
  });
}
