// Dropout in training mode: keep each unit with probability 1 − rate and scale it by
// 1 / (1 − rate). The mask is drawn once per step from the run's seeded generator and reused
// by the backward pass, so forward and backward agree (autodiff would redraw it).
import * as tf from '@tensorflow/tfjs';
import type { BackwardResult, CaptureSink, Keep, ParamHandle, TraceableLayer } from '../traceableLayer';
import type { LayerInfo } from '../../../shared/traceTypes';

export class DropoutTracer implements TraceableLayer {
  private readonly rate: number;
  private mask?: tf.Tensor;

  constructor(
    layer: tf.layers.Layer,
    readonly info: LayerInfo,
    readonly params: ParamHandle[],
  ) {
    const c = layer.getConfig() as { rate: number; noiseShape?: number[] };
    if (c.noiseShape) throw new Error('dropout with a noiseShape is not traced yet');
    this.rate = c.rate;
  }

  forward(x: tf.Tensor, capture: CaptureSink, keep: Keep): tf.Tensor {
    const seed = Math.floor(Math.random() * 2 ** 31);
    const keepProb = 1 - this.rate;
    const mask = tf.div(tf.step(tf.sub(tf.randomUniform(x.shape, 0, 1, 'float32', seed), this.rate)), keepProb);
    this.mask = keep(mask);
    const y = tf.mul(x, mask);
    capture('activation', y);
    return y;
  }

  backward(dY: tf.Tensor, needInputGrad: boolean, capture: CaptureSink): BackwardResult {
    const mask = this.mask!;
    this.mask = undefined;
    capture('gradActivation', dY);
    return { dInput: needInputGrad ? tf.mul(dY, mask) : undefined, grads: new Map() };
  }
}
