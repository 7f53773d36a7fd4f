// Max pooling, backward through tfjs autodiff with one correction: tfjs-wasm 4.22's MaxPool
// gradient drops windows whose maximum is negative (found when conv → batch norm → max pooling
// disagreed with the cpu backend; pinned by test/unit/tracerGradients.test.ts). Shifting the input so every value is positive leaves the
// argmax of every window, and so the gradient, unchanged, and sidesteps it on every backend.
import * as tf from '@tensorflow/tfjs';
import { vjp } from '../vjp';
import type { BackwardResult, CaptureSink, Keep, ParamHandle, TraceableLayer } from '../traceableLayer';
import type { LayerInfo } from '../../../shared/traceTypes';

export class MaxPoolingTracer implements TraceableLayer {
  private savedInput?: tf.Tensor;

  constructor(
    private readonly layer: tf.layers.Layer,
    readonly info: LayerInfo,
    readonly params: ParamHandle[],
  ) {}

  forward(x: tf.Tensor, capture: CaptureSink, keep: Keep): tf.Tensor {
    const y = this.layer.apply(x) as tf.Tensor;
    this.savedInput = keep(x);
    capture('activation', y);
    return y;
  }

  backward(dY: tf.Tensor, needInputGrad: boolean, capture: CaptureSink): BackwardResult {
    const x = this.savedInput!;
    this.savedInput = undefined;
    capture('gradActivation', dY);
    if (!needInputGrad) return { grads: new Map() };
    const shift = tf.sub(1, tf.min(x)); // a constant here: computed outside the differentiated function
    const [dInput] = vjp(() => this.layer.apply(tf.add(x, shift)) as tf.Tensor, [x], dY);
    return { dInput, grads: new Map() };
  }
}
