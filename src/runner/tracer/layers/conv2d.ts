// Conv2D (channels-last): z = conv(x, W) + b, a = act(z). tfjs-wasm has no
// Conv2DBackpropFilter kernel, so ∂L/∂W is computed from kernels every backend has: a conv2d
// of the transposed (padded) input with the transposed output gradient, the layer's stride
// becoming the dilation (see conv2dFilterGrad).
import * as tf from '@tensorflow/tfjs';
import { applyActivation, backThroughActivation, layerActivation } from '../activations';
import type { BackwardResult, CaptureSink, Keep, ParamHandle, TraceableLayer } from '../traceableLayer';
import type { LayerInfo } from '../../../shared/traceTypes';

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
  const cropped = tf.slice(out, [0, 0, 0, 0], [out.shape[0], kh, kw, out.shape[3]]);
  return tf.transpose(cropped, [1, 2, 0, 3]);
}

/** [kh, kw, ci, co] → [(kh − 1)·dh + 1, (kw − 1)·dw + 1, ci, co], zeros between the taps. */
export function dilatedKernel(kernel: tf.Tensor4D, [dh, dw]: [number, number]): tf.Tensor4D {
  if (dh === 1 && dw === 1) return kernel;
  const [kh, kw, ci, co] = kernel.shape;
  const spread = tf.pad(tf.reshape(kernel, [kh, 1, kw, 1, ci, co]), [[0, 0], [0, dh - 1], [0, 0], [0, dw - 1], [0, 0], [0, 0]]);
  return tf.slice(tf.reshape(spread, [kh * dh, kw * dw, ci, co]), [0, 0, 0, 0], [(kh - 1) * dh + 1, (kw - 1) * dw + 1, ci, co]) as tf.Tensor4D;
}

export class Conv2DTracer implements TraceableLayer {
  private readonly act;
  private readonly cfg: ConvConfig;
  private readonly kernel: tf.Variable;
  private readonly bias?: tf.Variable;
  private saved?: { x: tf.Tensor4D; z: tf.Tensor; a: tf.Tensor };

  constructor(
    layer: tf.layers.Layer,
    readonly info: LayerInfo,
    readonly params: ParamHandle[],
  ) {
    this.act = layerActivation(layer);
    this.cfg = convConfig(layer);
    this.kernel = params.find((p) => p.name === 'kernel')!.variable;
    this.bias = params.find((p) => p.name === 'bias')?.variable;
  }

  forward(x: tf.Tensor, capture: CaptureSink, keep: Keep): tf.Tensor {
    const x4 = x as tf.Tensor4D;
    let z: tf.Tensor = tf.conv2d(x4, this.kernel as tf.Tensor4D, this.cfg.strides, this.cfg.padding, 'NHWC', this.cfg.dilation);
    if (this.bias) z = tf.add(z, this.bias);
    const a = applyActivation(this.act, z, capture);
    this.saved = { x: keep(x4), z: keep(z), a: keep(a) };
    return a;
  }

  backward(dA: tf.Tensor, needInputGrad: boolean, capture: CaptureSink): BackwardResult {
    const { x, z, a } = this.saved!;
    this.saved = undefined;
    const dZ = backThroughActivation(this.act, z, a, dA, capture) as tf.Tensor4D;
    const grads = new Map<string, tf.Tensor>();
    grads.set('kernel', conv2dFilterGrad(x, dZ, this.cfg));
    if (this.bias) grads.set('bias', tf.sum(dZ, [0, 1, 2]));
    let dInput: tf.Tensor | undefined;
    if (needInputGrad) {
      // A dilated convolution is the plain convolution with the dilated (zero-inserted) kernel,
      // so its input gradient is that kernel's transposed convolution (tfjs has no gradient
      // for dilated convolutions: "dilation rates greater than 1 are not yet supported").
      const kernel = dilatedKernel(this.kernel as tf.Tensor4D, this.cfg.dilation);
      dInput = tf.conv2dTranspose(dZ, kernel, x.shape, this.cfg.strides, this.cfg.padding);
    }
    return { dInput, grads };
  }
}
