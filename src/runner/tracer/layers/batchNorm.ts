// BatchNormalization over the last axis, in training mode: normalise with the batch's mean and
// variance, scale by γ and shift by β, and move the running statistics the way tfjs does.
import * as tf from '@tensorflow/tfjs';
import type { BackwardResult, CaptureSink, Keep, ParamHandle, TraceableLayer } from '../traceableLayer';
import type { LayerInfo } from '../../../shared/traceTypes';

export class BatchNormTracer implements TraceableLayer {
  private readonly epsilon: number;
  private readonly momentum: number;
  private readonly gamma?: tf.Variable;
  private readonly beta?: tf.Variable;
  private readonly movingMean: tf.Variable;
  private readonly movingVariance: tf.Variable;
  private saved?: { xhat: tf.Tensor; invStd: tf.Tensor; reduceAxes: number[]; count: number };

  constructor(
    layer: tf.layers.Layer,
    readonly info: LayerInfo,
    readonly params: ParamHandle[],
  ) {
    const c = layer.getConfig() as { axis?: number | number[]; epsilon: number; momentum: number };
    const axis = Array.isArray(c.axis) ? c.axis : [c.axis ?? -1];
    const rank = (info.inputShape.length || 2);
    if (axis.length !== 1 || (axis[0] !== -1 && axis[0] !== rank - 1)) {
      throw new Error(`batch normalisation over axis ${JSON.stringify(c.axis)} is not traced yet (only the last axis)`);
    }
    this.epsilon = c.epsilon;
    this.momentum = c.momentum;
    const find = (name: string) => params.find((p) => p.name === name)?.variable;
    this.gamma = find('gamma');
    this.beta = find('beta');
    this.movingMean = find('moving_mean')!;
    this.movingVariance = find('moving_variance')!;
  }

  forward(x: tf.Tensor, capture: CaptureSink, keep: Keep): tf.Tensor {
    const reduceAxes = x.shape.slice(0, -1).map((_, i) => i);
    const { mean, variance } = tf.moments(x, reduceAxes);
    const invStd = tf.rsqrt(tf.add(variance, this.epsilon));
    const xhat = tf.mul(tf.sub(x, mean), invStd);
    let y = xhat;
    if (this.gamma) y = tf.mul(y, this.gamma);
    if (this.beta) y = tf.add(y, this.beta);
    // Running statistics move here, as in tfjs: moving = moving·momentum + batch·(1 − momentum).
    this.movingMean.assign(tf.add(tf.mul(this.movingMean, this.momentum), tf.mul(mean, 1 - this.momentum)));
    this.movingVariance.assign(tf.add(tf.mul(this.movingVariance, this.momentum), tf.mul(variance, 1 - this.momentum)));
    const count = reduceAxes.reduce((n, axis) => n * x.shape[axis], 1);
    this.saved = { xhat: keep(xhat), invStd: keep(invStd), reduceAxes, count };
    capture('preactivation', xhat);
    capture('activation', y);
    return y;
  }

  backward(dY: tf.Tensor, needInputGrad: boolean, capture: CaptureSink): BackwardResult {
    const { xhat, invStd, reduceAxes, count } = this.saved!;
    this.saved = undefined;
    capture('gradActivation', dY);
    const grads = new Map<string, tf.Tensor>();
    if (this.gamma) grads.set('gamma', tf.sum(tf.mul(dY, xhat), reduceAxes));
    if (this.beta) grads.set('beta', tf.sum(dY, reduceAxes));
    let dInput: tf.Tensor | undefined;
    if (needInputGrad) {
      const dXhat = this.gamma ? tf.mul(dY, this.gamma) : dY;
      capture('gradPreactivation', dXhat);
      // dx = invStd/N · (N·dx̂ − Σdx̂ − x̂·Σ(dx̂·x̂))
      const sumD = tf.sum(dXhat, reduceAxes);
      const sumDX = tf.sum(tf.mul(dXhat, xhat), reduceAxes);
      const inner = tf.sub(tf.sub(tf.mul(dXhat, count), sumD), tf.mul(xhat, sumDX));
      dInput = tf.mul(inner, tf.div(invStd, count));
    }
    return { dInput, grads };
  }
}
