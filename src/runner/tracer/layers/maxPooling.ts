// Max pooling, backward through tfjs autodiff with one correction: tfjs-wasm 4.22's MaxPool
// gradient drops windows whose maximum is negative (found when conv → batch norm → max pooling
// disagreed with the cpu backend; pinned by test/unit/tracerGradients.test.ts). Shifting the
// input so every value is positive leaves the argmax of every window, and so the gradient,
// unchanged, and sidesteps it on every backend.
import * as tf from '@tensorflow/tfjs';
import { AutodiffLayerTracer } from './autodiffLayer';

export class MaxPoolingTracer extends AutodiffLayerTracer {
  protected override callForGradient(x: tf.Tensor): tf.Tensor {
    // A plain number, so no gradient flows through the shift into x.
    const shift = 1 - tf.min(x).dataSync()[0];
    return this.call(tf.add(x, shift));
  }
}
