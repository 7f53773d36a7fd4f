// Dense: z = x·W + b, a = act(z). Every matMul is a plain, untransposed matMul of explicitly
// transposed operands: on tfjs-wasm that reaches XNNPACK, while the transposed-flag matMuls of
// the built-in gradient fall to a slow scalar loop (DESIGN.md). And on wasm the weights go on
// the left: XNNPACK packs the right operand and caches it by tensor id, but an update gives the
// weights a new id every step, so packing them is wasted work; the per-batch operand is smaller
// (measured in bench/results.md: 1.66× on the whole step, identical weights).
import * as tf from '@tensorflow/tfjs';
import type { ParamHandle } from '../traceableLayer';
import type { LayerInfo } from '../../../shared/traceTypes';
import { addBias, WeightedLayerTracer } from './weightedLayer';

/** x·W, with the weights not packed as XNNPACK's right operand when they are the bigger one. */
function timesWeights(x: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
  if (tf.getBackend() !== 'wasm' || w.size <= x.size) return tf.matMul(x, w);
  return tf.transpose(tf.matMul(tf.transpose(w), tf.transpose(x))) as tf.Tensor2D;
}

/** dZ·Wᵀ, likewise. */
function timesWeightsTransposed(dZ: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
  if (tf.getBackend() !== 'wasm' || w.size <= dZ.size) return tf.matMul(dZ, tf.transpose(w));
  return tf.transpose(tf.matMul(w, tf.transpose(dZ))) as tf.Tensor2D;
}

export class DenseTracer extends WeightedLayerTracer<{ x: tf.Tensor2D }> {
  private readonly kernel: tf.Variable;

  constructor(layer: tf.layers.Layer, info: LayerInfo, params: ParamHandle[]) {
    super(layer, info, params);
    this.kernel = this.weight('kernel');
  }

  protected op(x: tf.Tensor, bias: tf.Tensor | undefined) {
    const x2 = x as tf.Tensor2D;
    return { z: addBias(timesWeights(x2, this.kernel as tf.Tensor2D), bias), saved: { x: x2 } };
  }

  protected opBackward(dZ: tf.Tensor, { x }: { x: tf.Tensor2D }, needInputGrad: boolean, grads: Map<string, tf.Tensor>) {
    const dZ2 = dZ as tf.Tensor2D;
    grads.set('kernel', tf.matMul(tf.transpose(x), dZ2));
    return needInputGrad ? timesWeightsTransposed(dZ2, this.kernel as tf.Tensor2D) : undefined;
  }
}
