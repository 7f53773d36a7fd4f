// Conv1D (channels-last) as the conv2d of a one-row image: [n, L, c] → [n, 1, L, c], its kernel
// [k, ci, co] → [1, k, ci, co]. That gives it conv2d's backward, whose filter gradient needs no
// Conv2DBackpropFilter kernel (tfjs-wasm 4.22 lacks it, so autodiff of tfjs's conv1d fails
// there).
import * as tf from '@tensorflow/tfjs';
import { conv2dFilterGrad, conv2dInputGrad, type ConvConfig } from './conv2d';
import type { ParamHandle } from '../traceableLayer';
import type { LayerInfo } from '../../../shared/traceTypes';
import { WeightedLayerTracer } from './weightedLayer';

const single = (v: unknown): number => (Array.isArray(v) ? Number(v[0]) : Number(v ?? 1));

export class Conv1DTracer extends WeightedLayerTracer<{ x: tf.Tensor4D }> {
  private readonly kernel: tf.Variable;
  /** The one-row conv2d this layer is. */
  private readonly cfg: ConvConfig;

  constructor(layer: tf.layers.Layer, info: LayerInfo, params: ParamHandle[]) {
    super(layer, info, params);
    const c = layer.getConfig() as Record<string, unknown>;
    if (c.dataFormat !== undefined && c.dataFormat !== 'channelsLast') {
      throw new Error(`dataFormat '${String(c.dataFormat)}' is not traced yet (only channelsLast)`);
    }
    const stride = single(c.strides);
    const dilation = single(c.dilationRate);
    if (stride > 1 && dilation > 1) throw new Error('strides and dilation both above 1 are not traced yet');
    const padding = String(c.padding);
    // tfjs's own conv1d throws on 'causal' ("not implemented yet").
    if (padding !== 'valid' && padding !== 'same') throw new Error(`padding '${padding}' is not traced (tfjs's conv1d supports 'valid' and 'same')`);
    this.kernel = this.weight('kernel');
    this.cfg = { strides: [1, stride], padding, dilation: [1, dilation], kernelSize: [1, this.kernel.shape[0]] };
  }

  private kernel2d(): tf.Tensor4D {
    const [k, ci, co] = this.kernel.shape;
    return tf.reshape(this.kernel, [1, k, ci, co]);
  }

  protected op(x: tf.Tensor, bias: tf.Tensor | undefined) {
    const x4 = tf.expandDims(x, 1) as tf.Tensor4D;
    const z4 = tf.fused.conv2d({ x: x4, filter: this.kernel2d(), strides: this.cfg.strides, pad: this.cfg.padding, dataFormat: 'NHWC', dilations: this.cfg.dilation, bias });
    return { z: tf.squeeze(z4, [1]), saved: { x: x4 } };
  }

  protected opBackward(dZ: tf.Tensor, { x }: { x: tf.Tensor4D }, needInputGrad: boolean, grads: Map<string, tf.Tensor>) {
    const dZ4 = tf.expandDims(dZ, 1) as tf.Tensor4D;
    grads.set('kernel', tf.reshape(conv2dFilterGrad(x, dZ4, this.cfg), this.kernel.shape));
    return needInputGrad ? tf.squeeze(conv2dInputGrad(dZ4, this.kernel2d(), x.shape, this.cfg), [1]) : undefined;
  }
}
