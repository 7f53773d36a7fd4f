// What the weighted layers (dense, conv1d, conv2d, depthwise, separable) share: z = op(x) + b,
// a = act(z), both recorded; backward through the activation to ∂L/∂z, ∂L/∂b = ∂L/∂z summed
// over every axis but the channels; the layer's own op supplies its weights' and input's
// gradients. A subclass writes only its op and that op's backward.
import * as tf from '@tensorflow/tfjs';
import { applyActivation, backThroughActivation, layerActivation, type ActivationFn } from '../activations';
import type { BackwardResult, CaptureSink, Keep, ParamHandle, TraceableLayer } from '../traceableLayer';
import type { LayerInfo } from '../../../shared/traceTypes';

/** What a layer's op hands its backward: the tensors it keeps from the forward pass. */
export type Saved = Record<string, tf.Tensor>;

/** z + b, or z where the layer has no bias. */
export function addBias(z: tf.Tensor, bias: tf.Tensor | undefined): tf.Tensor {
  return bias ? tf.add(z, bias) : z;
}

/**
 * ∂L/∂b: ∂L/∂z summed over every axis but the channels, as ones · ∂z[N, c], a matMul. On
 * tfjs-wasm, `sum` over the leading axes of a big tensor is a slow path (31 ms against the
 * matMul's 1.2 ms at [128, 24, 24, 32]; bench/results.md).
 */
export function biasGrad(dZ: tf.Tensor): tf.Tensor1D {
  const channels = dZ.shape[dZ.rank - 1];
  const rows = dZ.size / channels;
  return tf.reshape(tf.matMul(tf.ones([1, rows]), tf.reshape(dZ, [rows, channels])), [channels]);
}

export abstract class WeightedLayerTracer<S extends Saved> implements TraceableLayer {
  protected readonly act: ActivationFn | undefined;
  protected readonly bias?: tf.Variable;
  private saved?: { op: S; z: tf.Tensor; a: tf.Tensor };

  constructor(
    layer: tf.layers.Layer,
    readonly info: LayerInfo,
    readonly params: ParamHandle[],
  ) {
    this.act = layerActivation(layer);
    this.bias = params.find((p) => p.name === 'bias')?.variable;
  }

  /** The variable of a weight by its name in the trace. */
  protected weight(name: string): tf.Variable {
    return this.params.find((p) => p.name === name)!.variable;
  }

  /** z = op(x) + b (the op may fuse the bias in), and what the op's backward needs. */
  protected abstract op(x: tf.Tensor, bias: tf.Tensor | undefined): { z: tf.Tensor; saved: S };

  /** Sets the weights' gradients in `grads` from ∂L/∂z; returns ∂L/∂x when asked for. */
  protected abstract opBackward(dZ: tf.Tensor, saved: S, needInputGrad: boolean, grads: Map<string, tf.Tensor>): tf.Tensor | undefined;

  forward(x: tf.Tensor, capture: CaptureSink, keep: Keep): tf.Tensor {
    const { z, saved } = this.op(x, this.bias);
    const a = applyActivation(this.act, z, capture);
    for (const t of Object.values(saved)) keep(t);
    this.saved = { op: saved, z: keep(z), a: keep(a) };
    return a;
  }

  backward(dA: tf.Tensor, needInputGrad: boolean, capture: CaptureSink): BackwardResult {
    const { op, z, a } = this.saved!;
    this.saved = undefined;
    const dZ = backThroughActivation(this.act, z, a, dA, capture);
    const grads = new Map<string, tf.Tensor>();
    const dInput = this.opBackward(dZ, op, needInputGrad, grads);
    if (this.bias) grads.set('bias', biasGrad(dZ));
    return { dInput, grads };
  }
}
