// A layer that joins branches of a functional model (add, concatenate, multiply, …): forward
// with the layer's own call on all its inputs, backward through tfjs autodiff of that call,
// one gradient per input.
import * as tf from '@tensorflow/tfjs';
import { vjp } from '../vjp';
import type { CaptureSink, Keep, ParamHandle } from '../traceableLayer';
import type { LayerInfo } from '../../../shared/traceTypes';

export class MergeLayerTracer {
  private saved?: tf.Tensor[];

  constructor(
    private readonly layer: tf.layers.Layer,
    readonly info: LayerInfo,
    readonly params: ParamHandle[],
  ) {}

  forward(xs: tf.Tensor[], capture: CaptureSink, keep: Keep): tf.Tensor {
    const y = this.layer.apply(xs, { training: true }) as tf.Tensor;
    this.saved = xs.map(keep);
    capture('activation', y);
    return y;
  }

  backward(dY: tf.Tensor, capture: CaptureSink): { dInputs: tf.Tensor[]; grads: Map<string, tf.Tensor> } {
    const xs = this.saved!;
    this.saved = undefined;
    capture('gradActivation', dY);
    const trainable = this.params.filter((p) => p.trainable);
    const all = vjp(() => this.layer.apply(xs, { training: true }) as tf.Tensor, [...xs, ...trainable.map((p) => p.variable)], dY);
    const grads = new Map<string, tf.Tensor>();
    trainable.forEach((p, i) => grads.set(p.name, all[xs.length + i]));
    return { dInputs: all.slice(0, xs.length), grads };
  }
}
