// SeparableConv2D (channels-last) where the backend lacks the depthwise gradient kernels
// (tfjs-wasm 4.22): z = conv2d(depthwiseConv2d(x, D), P) + b, a = act(z), as tfjs computes it;
// backward through the 1×1 pointwise convolution, then the depthwise one (depthwiseConv2d.ts).
import * as tf from '@tensorflow/tfjs';
import { conv2dFilterGrad, conv2dInputGrad, convConfig, type ConvConfig } from './conv2d';
import { depthwiseGrads } from './depthwiseConv2d';
import type { ParamHandle } from '../traceableLayer';
import type { LayerInfo } from '../../../shared/traceTypes';
import { WeightedLayerTracer } from './weightedLayer';

const POINTWISE: ConvConfig = { strides: [1, 1], padding: 'valid', dilation: [1, 1], kernelSize: [1, 1] };

export class SeparableConv2DTracer extends WeightedLayerTracer<{ x: tf.Tensor4D; mid: tf.Tensor4D }> {
  private readonly cfg: ConvConfig;
  private readonly depthwise: tf.Variable;
  private readonly pointwise: tf.Variable;

  constructor(layer: tf.layers.Layer, info: LayerInfo, params: ParamHandle[]) {
    super(layer, info, params);
    this.cfg = convConfig(layer);
    this.depthwise = this.weight('depthwise_kernel');
    this.pointwise = this.weight('pointwise_kernel');
  }

  protected op(x: tf.Tensor, bias: tf.Tensor | undefined) {
    const x4 = x as tf.Tensor4D;
    const mid = tf.depthwiseConv2d(x4, this.depthwise as tf.Tensor4D, this.cfg.strides, this.cfg.padding, 'NHWC', this.cfg.dilation);
    const z = tf.fused.conv2d({ x: mid, filter: this.pointwise as tf.Tensor4D, strides: 1, pad: 'valid', bias });
    return { z, saved: { x: x4, mid } };
  }

  protected opBackward(dZ: tf.Tensor, { x, mid }: { x: tf.Tensor4D; mid: tf.Tensor4D }, needInputGrad: boolean, grads: Map<string, tf.Tensor>) {
    const dZ4 = dZ as tf.Tensor4D;
    grads.set('pointwise_kernel', conv2dFilterGrad(mid, dZ4, POINTWISE));
    const dMid = conv2dInputGrad(dZ4, this.pointwise as tf.Tensor4D, mid.shape, POINTWISE);
    const { dKernel, dInput } = depthwiseGrads(x, dMid, this.depthwise as tf.Tensor4D, this.cfg, needInputGrad);
    grads.set('depthwise_kernel', dKernel);
    return dInput;
  }
}
