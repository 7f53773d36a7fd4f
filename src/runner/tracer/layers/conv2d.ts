// Conv2D (channels-last): z = conv(x, W) + b, a = act(z). Both gradients are forward conv2d's,
// the one kernel tfjs-wasm runs fast (XNNPACK): it has no Conv2DBackpropFilter at all, and its
// Conv2DBackpropInput (conv2dTranspose) is a scalar loop, 4–10× slower than conv2d on the same
// shapes (bench/results.md, "Convolutional nets"). ∂L/∂W is a conv2d of the transposed input
// with the transposed output gradient (conv2dFilterGrad), ∂L/∂x a conv2d of the spread, padded
// output gradient with the flipped kernel (conv2dInputGrad).
import * as tf from '@tensorflow/tfjs';
import type { ParamHandle } from '../traceableLayer';
import type { LayerInfo } from '../../../shared/traceTypes';
import { WeightedLayerTracer } from './weightedLayer';

export interface ConvConfig {
  strides: [number, number];
  padding: 'valid' | 'same';
  dilation: [number, number];
  kernelSize: [number, number];
}

function pair(v: number | number[]): [number, number] {
  return Array.isArray(v) ? [v[0], v[1] ?? v[0]] : [v, v];
}

export function convConfig(layer: tf.layers.Layer): ConvConfig {
  const c = layer.getConfig() as Record<string, unknown>;
  if (c.dataFormat !== undefined && c.dataFormat !== 'channelsLast') {
    throw new Error(`dataFormat '${String(c.dataFormat)}' is not traced yet (only channelsLast)`);
  }
  const padding = c.padding as string;
  if (padding !== 'valid' && padding !== 'same') throw new Error(`padding '${padding}' is not traced yet`);
  const cfg: ConvConfig = {
    strides: pair(c.strides as number | number[]),
    padding,
    dilation: pair((c.dilationRate as number | number[]) ?? 1),
    kernelSize: pair(c.kernelSize as number | number[]),
  };
  const strided = cfg.strides[0] > 1 || cfg.strides[1] > 1;
  const dilated = cfg.dilation[0] > 1 || cfg.dilation[1] > 1;
  if (strided && dilated) throw new Error('strides and dilation both above 1 are not traced yet');
  return cfg;
}

/** TensorFlow's 'same' padding: [before, after] for one spatial dimension. */
export function samePadding(size: number, kernel: number, stride: number, dilation: number): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** ∂L/∂W of a channels-last conv2d, without the Conv2DBackpropFilter kernel. */
export function conv2dFilterGrad(x: tf.Tensor4D, dZ: tf.Tensor4D, cfg: ConvConfig): tf.Tensor4D {
  const [kh, kw] = cfg.kernelSize;
  // Few taps (a first layer's ci = 1): the swapped conv below has as many output pixels as
  // taps, too few for XNNPACK's tiles (7.7 ms against 2.1 at [64, 28, 28, 1] → 8 filters).
  if (kh * kw * x.shape[3] <= 2 * dZ.shape[3]) return filterGradFromPatches(x, dZ, cfg);
  let xp = x;
  if (cfg.padding === 'same') {
    const ph = samePadding(x.shape[1], kh, cfg.strides[0], cfg.dilation[0]);
    const pw = samePadding(x.shape[2], kw, cfg.strides[1], cfg.dilation[1]);
    xp = tf.pad(x, [[0, 0], ph, pw, [0, 0]]);
  }
  // [n, H, W, ci] → [ci, H, W, n]: input channels become the batch, examples the channels.
  const xT = tf.transpose(xp, [3, 1, 2, 0]);
  // [n, OH, OW, co] → [OH, OW, n, co]: the output gradient becomes the filter.
  const dzT = tf.transpose(dZ, [1, 2, 0, 3]);
  // out[ci, i, j, co] = Σ x[n, i·d + oh·s, j·d + ow·s, ci] · dZ[n, oh, ow, co]
  const out = tf.conv2d(xT, dzT as tf.Tensor4D, cfg.dilation, 'valid', 'NHWC', cfg.strides);
  // Rows and columns a stride leaves uncovered make `out` larger than the kernel.
  const cropped = out.shape[1] === kh && out.shape[2] === kw ? out : tf.slice(out, [0, 0, 0, 0], [out.shape[0], kh, kw, out.shape[3]]);
  return tf.transpose(cropped, [1, 2, 0, 3]);
}

/**
 * ∂L/∂W as patchesᵀ · ∂z: each position's receptive field (kh·kw·ci values) taken by a conv2d
 * with an identity kernel (exact: one product by 1 per output), then one matMul over all
 * positions. Worth it while the patches are no wider than about twice ∂z (kh·kw·ci ≤ 2·co).
 */
function filterGradFromPatches(x: tf.Tensor4D, dZ: tf.Tensor4D, cfg: ConvConfig): tf.Tensor4D {
  const [kh, kw] = cfg.kernelSize;
  const ci = x.shape[3];
  const co = dZ.shape[3];
  const taps = kh * kw * ci;
  // Tap (i, j, c) → channel (i·kw + j)·ci + c, the kernel's own row-major order.
  const identity = tf.reshape(tf.eye(taps), [kh, kw, ci, taps]) as tf.Tensor4D;
  const patches = tf.conv2d(x, identity, cfg.strides, cfg.padding, 'NHWC', cfg.dilation);
  const positions = dZ.size / co;
  const dW = tf.matMul(tf.transpose(tf.reshape(patches, [positions, taps])), tf.reshape(dZ, [positions, co]));
  return tf.reshape(dW, [kh, kw, ci, co]);
}

/**
 * ∂L/∂x of a channels-last conv2d, without Conv2DBackpropInput: the output gradient with
 * stride − 1 zeros between its elements, padded so that every input position sees each tap
 * it fed, convolved (stride 1, the layer's dilation) with the kernel flipped in space and its
 * channel axes swapped. Dilation comes free (tfjs has no gradient for dilated convolutions).
 */
export function conv2dInputGrad(dZ: tf.Tensor4D, kernel: tf.Tensor4D, inputShape: [number, number, number, number], cfg: ConvConfig): tf.Tensor4D {
  const [, h, w] = inputShape;
  const [, oh, ow, co] = dZ.shape;
  const [kh, kw] = kernel.shape;
  const [sh, sw] = cfg.strides;
  const [dh, dw] = cfg.dilation;
  // The extent of a dilated kernel, and the padding before the first row and column.
  const [ekh, ekw] = [(kh - 1) * dh + 1, (kw - 1) * dw + 1];
  const top = cfg.padding === 'same' ? samePadding(h, kh, sh, dh)[0] : 0;
  const left = cfg.padding === 'same' ? samePadding(w, kw, sw, dw)[0] : 0;
  let spread: tf.Tensor4D = dZ;
  if (sh > 1 || sw > 1) {
    const n = dZ.shape[0];
    const zeros = tf.pad(tf.reshape(dZ, [n, oh, 1, ow, 1, co]), [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]);
    spread = tf.slice(tf.reshape(zeros, [n, oh * sh, ow * sw, co]) as tf.Tensor4D, [0, 0, 0, 0], [n, (oh - 1) * sh + 1, (ow - 1) * sw + 1, co]);
  }
  // x[i] takes dZ[o]·W[t] where o·s + t·d − top = i: with the kernel flipped, a correlation over
  // the spread gradient padded by ekh − 1 − top before and up to input row h − 1 + top after.
  const padded = tf.pad(spread, [[0, 0], [ekh - 1 - top, h - 1 + top - (oh - 1) * sh], [ekw - 1 - left, w - 1 + left - (ow - 1) * sw], [0, 0]]);
  const flipped = tf.transpose(tf.reverse(kernel, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
  return tf.conv2d(padded, flipped, 1, 'valid', 'NHWC', cfg.dilation);
}

export class Conv2DTracer extends WeightedLayerTracer<{ x: tf.Tensor4D }> {
  private readonly cfg: ConvConfig;
  private readonly kernel: tf.Variable;

  constructor(layer: tf.layers.Layer, info: LayerInfo, params: ParamHandle[]) {
    super(layer, info, params);
    this.cfg = convConfig(layer);
    this.kernel = this.weight('kernel');
  }

  protected op(x: tf.Tensor, bias: tf.Tensor | undefined) {
    const x4 = x as tf.Tensor4D;
    // One op for conv + bias (XNNPACK adds the bias as it writes the output).
    const z = tf.fused.conv2d({ x: x4, filter: this.kernel as tf.Tensor4D, strides: this.cfg.strides, pad: this.cfg.padding, dataFormat: 'NHWC', dilations: this.cfg.dilation, bias });
    return { z, saved: { x: x4 } };
  }

  protected opBackward(dZ: tf.Tensor, { x }: { x: tf.Tensor4D }, needInputGrad: boolean, grads: Map<string, tf.Tensor>) {
    const dZ4 = dZ as tf.Tensor4D;
    grads.set('kernel', conv2dFilterGrad(x, dZ4, this.cfg));
    return needInputGrad ? conv2dInputGrad(dZ4, this.kernel as tf.Tensor4D, x.shape, this.cfg) : undefined;
  }
}
