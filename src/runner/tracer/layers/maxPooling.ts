// Max pooling (1D and 2D, channels-last), with its own backward: each window's gradient goes to
// the element that was its maximum, ties to the first in the window's row-major order, as the
// cpu backend's MaxPoolGrad breaks them. tfjs-wasm 4.22's own MaxPool gradient drops windows
// whose maximum is negative, and its MaxPoolWithArgmax breaks ties the other way, so off the
// cpu backend the position is found here from the unshifted input, by exact comparison with
// the pooled maximum. (Shifting the input positive, as before, merged values within ~6e-8.)
// Measured on wasm, [64, 24, 24, 32], load ≈ 11: 2×2/2 windows 23 ms (the shift: 47 ms);
// overlapping 3×3/2 'same' 140 ms (the shift: 64 ms).
import * as tf from '@tensorflow/tfjs';
import { samePadding } from './conv2d';
import type { BackwardResult, CaptureSink, Keep, ParamHandle, TraceableLayer } from '../traceableLayer';
import type { LayerInfo } from '../../../shared/traceTypes';

interface PoolConfig {
  pool: [number, number];
  strides: [number, number];
  padding: 'valid' | 'same';
}

function poolConfig(layer: tf.layers.Layer, rank: number): PoolConfig {
  const c = layer.getConfig() as { poolSize: number[] | number; strides?: number[] | number; padding?: string; dataFormat?: string };
  if (c.dataFormat !== undefined && c.dataFormat !== 'channelsLast') {
    throw new Error(`dataFormat '${c.dataFormat}' is not traced yet (only channelsLast)`);
  }
  const padding = c.padding ?? 'valid';
  if (padding !== 'valid' && padding !== 'same') throw new Error(`padding '${padding}' is not traced yet`);
  const list = (v: number[] | number | undefined, fallback: number[]) => (v === undefined || v === null ? fallback : Array.isArray(v) ? v : [v]);
  const pool = list(c.poolSize, [2]);
  const strides = list(c.strides, pool);
  // 1D pooling is 2D pooling of [n, L, 1, c], as tfjs runs it.
  if (rank === 3) return { pool: [pool[0], 1], strides: [strides[0], 1], padding };
  return { pool: [pool[0], pool[1] ?? pool[0]], strides: [strides[0], strides[1] ?? strides[0]], padding };
}

/**
 * ∂L/∂x of y = maxPool(x) for channels-last x [n, H, W, c] and its pooled y [n, OH, OW, c]:
 * dY of each window at the first position (row-major) that holds the window's maximum.
 */
export function maxPoolInputGrad(x: tf.Tensor4D, y: tf.Tensor4D, dY: tf.Tensor4D, cfg: PoolConfig): tf.Tensor4D {
  const [, h, w] = x.shape;
  const [ph, pw] = cfg.pool;
  const [sh, sw] = cfg.strides;
  const [top, bottom] = cfg.padding === 'same' ? samePadding(h, ph, sh, 1) : [0, 0];
  const [left, right] = cfg.padding === 'same' ? samePadding(w, pw, sw, 1) : [0, 0];
  const tiled = sh === ph && sw === pw && top + bottom + left + right === 0;
  return tiled ? tiledWindowsGrad(x, y, dY, cfg) : anyWindowsGrad(x, y, dY, cfg, top, bottom, left, right);
}

/** 1 where d = 0, else 0, for d ≤ 0 (a difference from a maximum). */
function holds(d: tf.Tensor): tf.Tensor {
  return tf.sub(1, tf.step(tf.neg(d)));
}

/**
 * Windows that tile the input (stride = pool size, no padding; the usual case): seen as a
 * [n, OH, ph, OW, pw, c] view, each window's elements are compared with its maximum at once,
 * and the gradient is laid out in the same view. No scatter, no index arithmetic. Nine ops on
 * the input's size; on tfjs-wasm the ones that broadcast the pooled tensors cost 4–5× a
 * same-shape op, so each step below is the one with the fewest of them.
 */
function tiledWindowsGrad(x: tf.Tensor4D, y: tf.Tensor4D, dY: tf.Tensor4D, cfg: PoolConfig): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const [, oh, ow] = y.shape;
  const [ph, pw] = cfg.pool;
  // 'valid' drops the rows and columns that fill no window; they get no gradient.
  const covered = oh * ph === h && ow * pw === w ? x : cropRowsAndColumns(x, oh * ph, ow * pw);
  const windows = tf.reshape(covered, [n, oh, ph, ow, pw, c]);
  // Float arithmetic throughout: on tfjs-wasm, `equal` with this broadcast is ~100× slower than
  // `sub`. max − element ≥ 0, and is 0 exactly where the element equals its window's maximum
  // (the difference of two floats this close is exact), so step() is 1 on the others.
  const below = tf.step(tf.sub(tf.reshape(y, [n, oh, 1, ow, 1, c]), windows));
  // Ties: the first position in row-major order wins. Rank the positions ph·pw … 1 and keep,
  // in each window, the maximum holder of the highest rank.
  const rank = tf.reshape(tf.range(ph * pw, 0, -1, 'float32'), [1, 1, ph, 1, pw, 1]);
  const ranked = tf.mul(tf.sub(1, below), rank);
  // The highest rank in each window: a max pool of the ranks (XNNPACK on wasm), 5–10× faster
  // there than tf.max over the view's window axes, which transposes them innermost first.
  const highest = tf.maxPool(tf.reshape(ranked, [n, oh * ph, ow * pw, c]) as tf.Tensor4D, [ph, pw], [ph, pw], 'valid');
  // Ranks are small integers: rank − (highest − ½) > 0 only at the highest (exact in float32).
  const first = tf.step(tf.sub(ranked, tf.reshape(tf.sub(highest, 0.5), [n, oh, 1, ow, 1, c])));
  const routed = tf.mul(first, tf.reshape(dY, [n, oh, 1, ow, 1, c]));
  const dCovered = tf.reshape(routed, [n, oh * ph, ow * pw, c]) as tf.Tensor4D;
  if (covered === x) return dCovered;
  return tf.pad(dCovered, [[0, 0], [0, h - oh * ph], [0, w - ow * pw], [0, 0]]) as tf.Tensor4D;
}

/**
 * x[:, :rows, :cols, :] as a 3D slice of x seen as [n, H, W·c]: tfjs-wasm slices in JS, one
 * copy per innermost run, and a 4D slice's runs are only c long (2.0 ms at [64, 11, 11, 16]
 * against ≈ 0.2 ms for runs of cols·c).
 */
function cropRowsAndColumns(x: tf.Tensor4D, rows: number, cols: number): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const cropped = tf.slice(tf.reshape(x, [n, h, w * c]), [0, 0, 0], [n, rows, cols * c]);
  return tf.reshape(cropped, [n, rows, cols, c]) as tf.Tensor4D;
}

/**
 * Any windows (overlapping, padded): per window offset, that offset's element of every window
 * (a 1×1 max pool with the layer's stride: a strided slice ~15× faster than stridedSlice on
 * tfjs-wasm) is compared with the window's maximum; the gradient is then scatter-added to the
 * positions found (overlapping windows sum).
 */
function anyWindowsGrad(x: tf.Tensor4D, y: tf.Tensor4D, dY: tf.Tensor4D, cfg: PoolConfig, top: number, bottom: number, left: number, right: number): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const [, oh, ow] = y.shape;
  const [ph, pw] = cfg.pool;
  const [sh, sw] = cfg.strides;
  // Padding never wins a window, as in tfjs's pooling (−∞ − max is −∞: never 0).
  const padded = top + bottom + left + right > 0 ? tf.pad(x, [[0, 0], [top, bottom], [left, right], [0, 0]], -Infinity) : x;
  // `free` is 1 in windows whose maximum is not found yet; `offset` is the found maximum's flat
  // offset in x from its window's corner ((i·W + j)·c: small integers, exact in float32).
  let free: tf.Tensor = tf.onesLike(y);
  let offset: tf.Tensor = tf.zerosLike(y);
  const [paddedH, paddedW] = [padded.shape[1], padded.shape[2]];
  for (let i = 0; i < ph; i++) {
    for (let j = 0; j < pw; j++) {
      const shifted = tf.slice(padded, [0, i, j, 0], [n, paddedH - i, paddedW - j, c]);
      const candidates = tf.slice(tf.maxPool(shifted, 1, [sh, sw], 'valid'), [0, 0, 0, 0], [n, oh, ow, c]);
      const first = tf.mul(holds(tf.sub(candidates, y)), free);
      if (i + j > 0) offset = tf.add(offset, tf.mul(first, (i * w + j) * c));
      free = tf.sub(free, first);
    }
  }
  const flat = tf.add(windowCorners(n, oh, ow, c, h, w, sh, sw, top, left), tf.cast(offset, 'int32'));
  const summed = tf.scatterND(tf.reshape(flat, [flat.size, 1]), tf.reshape(dY, [dY.size]), [x.size]);
  return tf.reshape(summed, x.shape);
}

/** The flat index into x [n, h, w, c] of each window's corner (negative rows and columns in the padding). */
function windowCorners(n: number, oh: number, ow: number, c: number, h: number, w: number, sh: number, sw: number, top: number, left: number): tf.Tensor {
  const corners = new Int32Array(n * oh * ow * c);
  let k = 0;
  for (let b = 0; b < n; b++) {
    for (let r = 0; r < oh; r++) {
      for (let col = 0; col < ow; col++) {
        const base = ((b * h + r * sh - top) * w + col * sw - left) * c;
        for (let ch = 0; ch < c; ch++) corners[k++] = base + ch;
      }
    }
  }
  return tf.tensor4d(corners, [n, oh, ow, c], 'int32');
}

export class MaxPoolingTracer implements TraceableLayer {
  private readonly cfg: PoolConfig;
  private saved?: { x: tf.Tensor; y: tf.Tensor };

  constructor(
    private readonly layer: tf.layers.Layer,
    readonly info: LayerInfo,
    readonly params: ParamHandle[],
  ) {
    this.cfg = poolConfig(layer, info.inputShape.length || 4);
  }

  forward(x: tf.Tensor, capture: CaptureSink, keep: Keep): tf.Tensor {
    const y = this.layer.apply(x, { training: true }) as tf.Tensor;
    this.saved = { x: keep(x), y: keep(y) };
    capture('activation', y);
    return y;
  }

  backward(dY: tf.Tensor, needInputGrad: boolean, capture: CaptureSink): BackwardResult {
    const { x, y } = this.saved!;
    this.saved = undefined;
    capture('gradActivation', dY);
    if (!needInputGrad) return { grads: new Map() };
    // 1D: [n, L, c] as [n, L, 1, c].
    const as4d = (t: tf.Tensor) => (t.rank === 3 ? tf.expandDims(t, 2) : t) as tf.Tensor4D;
    const { pool, strides, padding } = this.cfg;
    // The cpu backend's own MaxPoolGrad is exact (it is the reference) and faster there.
    const dX =
      tf.getBackend() === 'cpu'
        ? tf.grad((v: tf.Tensor) => tf.maxPool(v as tf.Tensor4D, pool, strides, padding))(as4d(x), as4d(dY))
        : maxPoolInputGrad(as4d(x), as4d(y), as4d(dY), this.cfg);
    return { dInput: x.rank === 3 ? tf.squeeze(dX, [2]) : dX, grads: new Map() };
  }
}
