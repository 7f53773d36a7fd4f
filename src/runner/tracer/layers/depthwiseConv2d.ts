// DepthwiseConv2D (channels-last) where the backend lacks its gradient kernels (tfjs-wasm 4.22
// has neither DepthwiseConv2dNativeBackpropFilter nor …BackpropInput). A depthwise convolution
// is the plain convolution whose kernel is block-diagonal — input channel c feeds only outputs
// c·m … c·m + m − 1 — so both gradients come from kernels every backend has: ∂L/∂W is the
// diagonal of conv2d's filter gradient over all channel pairs (ci× the work of the depthwise
// one), ∂L/∂x conv2d's input gradient with the block-diagonal kernel.
import * as tf from '@tensorflow/tfjs';
import { conv2dFilterGrad, conv2dInputGrad, convConfig, type ConvConfig } from './conv2d';
import type { ParamHandle } from '../traceableLayer';
import type { LayerInfo } from '../../../shared/traceTypes';
import { addBias, WeightedLayerTracer } from './weightedLayer';

/** [kh, kw, ci, m] → [kh, kw, ci, ci·m], zero off the diagonal blocks. */
export function blockDiagonalKernel(kernel: tf.Tensor4D): tf.Tensor4D {
  const [kh, kw, ci, m] = kernel.shape;
  const eye = tf.reshape(tf.eye(ci), [1, 1, ci, ci, 1]);
  return tf.reshape(tf.mul(tf.reshape(kernel, [kh, kw, ci, 1, m]), eye), [kh, kw, ci, ci * m]) as tf.Tensor4D;
}

/** ∂L/∂W and (when asked) ∂L/∂x of z = depthwiseConv2d(x, W) from ∂L/∂z, with forward conv2d only. */
export function depthwiseGrads(x: tf.Tensor4D, dZ: tf.Tensor4D, kernel: tf.Tensor4D, cfg: ConvConfig, needInputGrad: boolean): { dKernel: tf.Tensor; dInput?: tf.Tensor } {
  const [kh, kw, ci, m] = kernel.shape;
  // [kh, kw, ci, ci·m] over all channel pairs → the pairs (c, c·m + k).
  const allPairs = tf.reshape(conv2dFilterGrad(x, dZ, { ...cfg, kernelSize: [kh, kw] }), [kh, kw, ci, ci, m]);
  const dKernel = tf.sum(tf.mul(allPairs, tf.reshape(tf.eye(ci), [1, 1, ci, ci, 1])), 3);
  if (!needInputGrad) return { dKernel };
  return { dKernel, dInput: conv2dInputGrad(dZ, blockDiagonalKernel(kernel), x.shape, cfg) };
}

export class DepthwiseConv2DTracer extends WeightedLayerTracer<{ x: tf.Tensor4D }> {
  private readonly cfg: ConvConfig;
  private readonly kernel: tf.Variable;

  constructor(layer: tf.layers.Layer, info: LayerInfo, params: ParamHandle[]) {
    super(layer, info, params);
    // tfjs-layers 4.22's DepthwiseConv2D ignores dilationRate in its call (and its output
    // shape): the traced function is the one it computes.
    this.cfg = { ...convConfig(layer), dilation: [1, 1] as [number, number] };
    this.kernel = this.weight('depthwise_kernel');
  }

  protected op(x: tf.Tensor, bias: tf.Tensor | undefined) {
    const x4 = x as tf.Tensor4D;
    const z = tf.depthwiseConv2d(x4, this.kernel as tf.Tensor4D, this.cfg.strides, this.cfg.padding, 'NHWC', this.cfg.dilation);
    return { z: addBias(z, bias), saved: { x: x4 } };
  }

  protected opBackward(dZ: tf.Tensor, { x }: { x: tf.Tensor4D }, needInputGrad: boolean, grads: Map<string, tf.Tensor>) {
    const { dKernel, dInput } = depthwiseGrads(x, dZ as tf.Tensor4D, this.kernel as tf.Tensor4D, this.cfg, needInputGrad);
    grads.set('depthwise_kernel', dKernel);
    return dInput;
  }
}
