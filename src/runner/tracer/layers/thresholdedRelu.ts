// ThresholdedReLU: y = x where x > θ, else 0. tfjs builds it from `greater`, which has no
// gradient ("gradient function not found for Greater"); x·step(x − θ) is the same function
// with a gradient (step's is zero), so autodiff differentiates that instead.
import * as tf from '@tensorflow/tfjs';
import { AutodiffLayerTracer } from './autodiffLayer';
import type { ParamHandle } from '../traceableLayer';
import type { LayerInfo } from '../../../shared/traceTypes';

export class ThresholdedReLUTracer extends AutodiffLayerTracer {
  private readonly theta: number;

  constructor(layer: tf.layers.Layer, info: LayerInfo, params: ParamHandle[]) {
    super(layer, info, params);
    this.theta = Number((layer.getConfig() as { theta?: number }).theta ?? 1);
  }

  protected override callForGradient(x: tf.Tensor): tf.Tensor {
    return tf.mul(x, tf.step(tf.sub(x, this.theta)));
  }
}
