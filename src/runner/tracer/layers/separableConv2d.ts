// SeparableConv2D (channels-last) where the backend lacks the depthwise gradient kernels
// (tfjs-wasm 4.22): z = conv2d(depthwiseConv2d(x, D), P) + b, a = act(z), as tfjs computes it;
// backward through the 1×1 pointwise convolution, then the depthwise one (depthwiseConv2d.ts).
import * as tf from '@tensorflow/tfjs';
import { applyActivation, backThroughActivation, layerActivation } from '../activations';
import { conv2dFilterGrad, convConfig, type ConvConfig } from './conv2d';
import { depthwiseGrads } from './depthwiseConv2d';
import type { BackwardResult, CaptureSink, Keep, ParamHandle, TraceableLayer } from '../traceableLayer';
import type { LayerInfo } from '../../../shared/traceTypes';

const POINTWISE: ConvConfig = { strides: [1, 1], padding: 'valid', dilation: [1, 1], kernelSize: [1, 1] };

export class SeparableConv2DTracer implements TraceableLayer {
  private readonly act;
  private readonly cfg: ConvConfig;
  private readonly depthwise: tf.Variable;
  private readonly pointwise: tf.Variable;
  private readonly bias?: tf.Variable;
  private saved?: { x: tf.Tensor4D; mid: tf.Tensor4D; z: tf.Tensor; a: tf.Tensor };

  constructor(
    layer: tf.layers.Layer,
    readonly info: LayerInfo,
    readonly params: ParamHandle[],
  ) {
    this.act = layerActivation(layer);
    this.cfg = convConfig(layer);
    this.depthwise = params.find((p) => p.name === 'depthwise_kernel')!.variable;
    this.pointwise = params.find((p) => p.name === 'pointwise_kernel')!.variable;
    this.bias = params.find((p) => p.name === 'bias')?.variable;
  }

  forward(x: tf.Tensor, capture: CaptureSink, keep: Keep): tf.Tensor {
    const x4 = x as tf.Tensor4D;
    const mid = tf.depthwiseConv2d(x4, this.depthwise as tf.Tensor4D, this.cfg.strides, this.cfg.padding, 'NHWC', this.cfg.dilation);
    let z: tf.Tensor = tf.conv2d(mid, this.pointwise as tf.Tensor4D, 1, 'valid');
    if (this.bias) z = tf.add(z, this.bias);
    const a = applyActivation(this.act, z, capture);
    this.saved = { x: keep(x4), mid: keep(mid), z: keep(z), a: keep(a) };
    return a;
  }

  backward(dA: tf.Tensor, needInputGrad: boolean, capture: CaptureSink): BackwardResult {
    const { x, mid, z, a } = this.saved!;
    this.saved = undefined;
    const dZ = backThroughActivation(this.act, z, a, dA, capture) as tf.Tensor4D;
    const grads = new Map<string, tf.Tensor>();
    grads.set('pointwise_kernel', conv2dFilterGrad(mid, dZ, POINTWISE));
    if (this.bias) grads.set('bias', tf.sum(dZ, [0, 1, 2]));
    const dMid = tf.conv2dTranspose(dZ, this.pointwise as tf.Tensor4D, mid.shape, 1, 'valid');
    const { dKernel, dInput } = depthwiseGrads(x, dMid, this.depthwise as tf.Tensor4D, this.cfg, needInputGrad);
    grads.set('depthwise_kernel', dKernel);
    return { dInput, grads };
  }
}
