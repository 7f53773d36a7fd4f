// Any other stateless layer (pooling, flatten, reshape, activation, padding...): forward with
// the layer's own call, backward through tfjs autodiff of that call.
import * as tf from '@tensorflow/tfjs';
import { vjp } from '../vjp';
import type { BackwardResult, CaptureSink, Keep, ParamHandle, TraceableLayer } from '../traceableLayer';
import type { LayerInfo } from '../../../shared/traceTypes';

export class AutodiffLayerTracer implements TraceableLayer {
  private savedInput?: tf.Tensor;

  constructor(
    protected readonly layer: tf.layers.Layer,
    readonly info: LayerInfo,
    readonly params: ParamHandle[],
  ) {}

  protected call(x: tf.Tensor): tf.Tensor {
    return this.layer.apply(x, { training: true }) as tf.Tensor;
  }

  /** The function differentiated in the backward pass: the layer's own call unless overridden. */
  protected callForGradient(x: tf.Tensor): tf.Tensor {
    return this.call(x);
  }

  forward(x: tf.Tensor, capture: CaptureSink, keep: Keep): tf.Tensor {
    const y = this.call(x);
    this.savedInput = keep(x);
    capture('activation', y);
    return y;
  }

  backward(dY: tf.Tensor, needInputGrad: boolean, capture: CaptureSink): BackwardResult {
    const x = this.savedInput!;
    this.savedInput = undefined;
    capture('gradActivation', dY);
    const trainable = this.params.filter((p) => p.trainable);
    const grads = new Map<string, tf.Tensor>();
    if (!needInputGrad && trainable.length === 0) return { grads };
    // Integer inputs (indices) have no gradient: autodiff is taken with respect to the weights
    // alone, and the layer before (if any) gets zeros.
    const inputGrad = needInputGrad && x.dtype === 'float32';
    const wrt = [...(inputGrad ? [x] : []), ...trainable.map((p) => p.variable)];
    if (wrt.length === 0) return { dInput: tf.zerosLike(x), grads };
    const all = vjp(() => this.callForGradient(x), wrt, dY);
    const offset = inputGrad ? 1 : 0;
    trainable.forEach((p, i) => grads.set(p.name, all[i + offset]));
    const dInput = inputGrad ? all[0] : needInputGrad ? tf.zerosLike(x) : undefined;
    return { dInput, grads };
  }
}
