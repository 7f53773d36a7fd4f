// Dense: z = x·W + b, a = act(z). Every matMul is a plain, untransposed matMul of explicitly
// transposed operands: on tfjs-wasm that reaches XNNPACK, while the transposed-flag matMuls of
// the built-in gradient fall to a slow scalar loop (DESIGN.md). And on wasm the weights go on
// the left: XNNPACK packs the right operand and caches it by tensor id, but an update gives the
// weights a new id every step, so packing them is wasted work; the per-batch operand is smaller
// (measured in bench/results.md: 1.66× on the whole step, identical weights).
import * as tf from '@tensorflow/tfjs';
import { applyActivation, backThroughActivation, layerActivation } from '../activations';
import type { BackwardResult, CaptureSink, Keep, ParamHandle, TraceableLayer } from '../traceableLayer';
import type { LayerInfo } from '../../../shared/traceTypes';

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

export class DenseTracer implements TraceableLayer {
  private readonly act;
  private readonly kernel: tf.Variable;
  private readonly bias?: tf.Variable;
  private saved?: { x: tf.Tensor2D; z: tf.Tensor; a: tf.Tensor };

  constructor(
    layer: tf.layers.Layer,
    readonly info: LayerInfo,
    readonly params: ParamHandle[],
  ) {
    this.act = layerActivation(layer);
    this.kernel = params.find((p) => p.name === 'kernel')!.variable;
    this.bias = params.find((p) => p.name === 'bias')?.variable;
  }

  forward(x: tf.Tensor, capture: CaptureSink, keep: Keep): tf.Tensor {
    const x2 = x as tf.Tensor2D;
    let z: tf.Tensor = timesWeights(x2, this.kernel as tf.Tensor2D);
    if (this.bias) z = tf.add(z, this.bias);
    const a = applyActivation(this.act, z, capture);
    this.saved = { x: keep(x2), z: keep(z), a: keep(a) };
    return a;
  }

  backward(dA: tf.Tensor, needInputGrad: boolean, capture: CaptureSink): BackwardResult {
    const { x, z, a } = this.saved!;
    this.saved = undefined;
    const dZ = backThroughActivation(this.act, z, a, dA, capture) as tf.Tensor2D;
    const grads = new Map<string, tf.Tensor>();
    grads.set('kernel', tf.matMul(tf.transpose(x), dZ));
    if (this.bias) grads.set('bias', tf.sum(dZ, 0));
    const dInput = needInputGrad ? timesWeightsTransposed(dZ, this.kernel as tf.Tensor2D) : undefined;
    return { dInput, grads };
  }
}
