// DepthwiseConv2D (channels-last) where the backend lacks its gradient kernels (tfjs-wasm 4.22
// has neither DepthwiseConv2dNativeBackpropFilter nor …BackpropInput). A depthwise convolution
// is the plain convolution whose kernel is block-diagonal — input channel c feeds only outputs
// c·m … c·m + m − 1 — so both gradients come from kernels every backend has: ∂L/∂W is the
// diagonal of conv2d's filter gradient over all channel pairs (ci× the work of the depthwise
// one), ∂L/∂x the transposed convolution with the block-diagonal (and dilated) kernel.
import * as tf from '@tensorflow/tfjs';
import { applyActivation, backThroughActivation, layerActivation } from '../activations';
import { conv2dFilterGrad, convConfig, dilatedKernel, type ConvConfig } from './conv2d';
import type { BackwardResult, CaptureSink, Keep, ParamHandle, TraceableLayer } from '../traceableLayer';
import type { LayerInfo } from '../../../shared/traceTypes';

/** [kh, kw, ci, m] → [kh, kw, ci, ci·m], zero off the diagonal blocks. */
export function blockDiagonalKernel(kernel: tf.Tensor4D): tf.Tensor4D {
  const [kh, kw, ci, m] = kernel.shape;
  const eye = tf.reshape(tf.eye(ci), [1, 1, ci, ci, 1]);
  return tf.reshape(tf.mul(tf.reshape(kernel, [kh, kw, ci, 1, m]), eye), [kh, kw, ci, ci * m]) as tf.Tensor4D;
}

/** ∂L/∂W and (when asked) ∂L/∂x of z = depthwiseConv2d(x, W) from ∂L/∂z, with conv2d's kernels only. */
export function depthwiseGrads(x: tf.Tensor4D, dZ: tf.Tensor4D, kernel: tf.Tensor4D, cfg: ConvConfig, needInputGrad: boolean): { dKernel: tf.Tensor; dInput?: tf.Tensor } {
  const [kh, kw, ci, m] = kernel.shape;
  // [kh, kw, ci, ci·m] over all channel pairs → the pairs (c, c·m + k).
  const allPairs = tf.reshape(conv2dFilterGrad(x, dZ, { ...cfg, kernelSize: [kh, kw] }), [kh, kw, ci, ci, m]);
  const dKernel = tf.sum(tf.mul(allPairs, tf.reshape(tf.eye(ci), [1, 1, ci, ci, 1])), 3);
  if (!needInputGrad) return { dKernel };
  const full = dilatedKernel(blockDiagonalKernel(kernel), cfg.dilation);
  return { dKernel, dInput: tf.conv2dTranspose(dZ, full, x.shape, cfg.strides, cfg.padding) };
}

export class DepthwiseConv2DTracer implements TraceableLayer {
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
    // tfjs-layers 4.22's DepthwiseConv2D ignores dilationRate in its call (and its output
    // shape): the traced function is the one it computes.
    this.cfg = { ...convConfig(layer), dilation: [1, 1] as [number, number] };
    this.kernel = params.find((p) => p.name === 'depthwise_kernel')!.variable;
    this.bias = params.find((p) => p.name === 'bias')?.variable;
  }

  forward(x: tf.Tensor, capture: CaptureSink, keep: Keep): tf.Tensor {
    const x4 = x as tf.Tensor4D;
    let z: tf.Tensor = tf.depthwiseConv2d(x4, this.kernel as tf.Tensor4D, this.cfg.strides, this.cfg.padding, 'NHWC', this.cfg.dilation);
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
    const { dKernel, dInput } = depthwiseGrads(x, dZ, this.kernel as tf.Tensor4D, this.cfg, needInputGrad);
    grads.set('depthwise_kernel', dKernel);
    if (this.bias) grads.set('bias', tf.sum(dZ, [0, 1, 2]));
    return { dInput, grads };
  }
}
