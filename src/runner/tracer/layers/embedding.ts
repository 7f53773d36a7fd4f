// Embedding: rows of its table looked up by index. Its input is indices (even when they come as
// float32: the layer casts them), so only the table has a gradient: ∂L/∂table sums the output
// gradient of every position into the row it looked up. A scatter-add (ScatterNd, which sums
// repeated indices on every backend) computes it; tfjs autodiff would differentiate the lookup
// with respect to the indices ("GatherV2 … int32") and needs UnsortedSegmentSum, which
// tfjs-wasm 4.22 lacks.
import * as tf from '@tensorflow/tfjs';
import type { BackwardResult, CaptureSink, Keep, ParamHandle, TraceableLayer } from '../traceableLayer';
import type { LayerInfo } from '../../../shared/traceTypes';

export class EmbeddingTracer implements TraceableLayer {
  private readonly table: tf.Variable;
  private readonly trainable: boolean;
  private saved?: { indices: tf.Tensor; inputShape: number[] };

  constructor(
    private readonly layer: tf.layers.Layer,
    readonly info: LayerInfo,
    readonly params: ParamHandle[],
  ) {
    const table = params.find((p) => p.name === 'embeddings');
    if (!table) throw new Error('the embedding has no table');
    // Stock tfjs hands the mask to the layers after it (an LSTM then skips the padded steps); the
    // tracer calls each layer on its input alone, so the same model would compute something else.
    if ((layer.getConfig() as { maskZero?: boolean }).maskZero) throw new Error('maskZero is not traced yet (its mask would not reach the layers after it)');
    this.table = table.variable;
    this.trainable = table.trainable;
  }

  forward(x: tf.Tensor, capture: CaptureSink, keep: Keep): tf.Tensor {
    const y = this.layer.apply(x, { training: true }) as tf.Tensor;
    this.saved = { indices: keep(tf.reshape(tf.cast(x, 'int32'), [x.size, 1])), inputShape: x.shape };
    capture('activation', y);
    return y;
  }

  backward(dY: tf.Tensor, needInputGrad: boolean, capture: CaptureSink): BackwardResult {
    const { indices, inputShape } = this.saved!;
    this.saved = undefined;
    capture('gradActivation', dY);
    const grads = new Map<string, tf.Tensor>();
    const [rows, width] = this.table.shape;
    if (this.trainable) grads.set('embeddings', tf.scatterND(indices, tf.reshape(dY, [indices.shape[0], width]), [rows, width]));
    // Indices have no gradient; a layer before an embedding gets zeros.
    const dInput = needInputGrad ? tf.zeros(inputShape) : undefined;
    return { dInput, grads };
  }
}
