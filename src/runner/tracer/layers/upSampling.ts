// UpSampling2D, nearest (the default), channels-last: each output pixel copies one input pixel.
// tfjs-wasm 4.22's ResizeNearestNeighborGrad gives wrong gradients (pinned in
// test/unit/autodiffLayers.test.ts), so ∂L/∂x is summed here from the copies: which input pixel
// each output pixel copied is read off tfjs's own resize of an image of pixel numbers (so it is
// exactly the mapping the forward pass used, float rounding included), and a scatter-add sums
// the output gradient into those pixels. Bilinear resizing goes through autodiff.
import * as tf from '@tensorflow/tfjs';
import { AutodiffLayerTracer } from './autodiffLayer';
import type { BackwardResult, CaptureSink, Keep, ParamHandle } from '../traceableLayer';
import type { LayerInfo } from '../../../shared/traceTypes';

export class UpSampling2DTracer extends AutodiffLayerTracer {
  private readonly nearest: boolean;
  private inputShape?: number[];

  constructor(layer: tf.layers.Layer, info: LayerInfo, params: ParamHandle[]) {
    super(layer, info, params);
    const c = layer.getConfig() as { interpolation?: string; dataFormat?: string };
    this.nearest = (c.interpolation ?? 'nearest') === 'nearest' && (c.dataFormat ?? 'channelsLast') === 'channelsLast';
  }

  override forward(x: tf.Tensor, capture: CaptureSink, keep: Keep): tf.Tensor {
    if (!this.nearest) return super.forward(x, capture, keep);
    this.inputShape = x.shape;
    const y = this.call(x);
    capture('activation', y);
    return y;
  }

  override backward(dY: tf.Tensor, needInputGrad: boolean, capture: CaptureSink): BackwardResult {
    if (!this.nearest) return super.backward(dY, needInputGrad, capture);
    const [n, h, w, c] = this.inputShape!;
    this.inputShape = undefined;
    capture('gradActivation', dY);
    if (!needInputGrad) return { grads: new Map() };
    const [, oh, ow] = dY.shape;
    // The input pixel number each output pixel copied (exact: integers below 2^24 in float32).
    const pixelNumbers = tf.reshape(tf.range(0, h * w, 1, 'float32'), [1, h, w, 1]);
    const source = this.call(pixelNumbers);
    const indices = tf.reshape(tf.cast(source, 'int32'), [oh * ow, 1]);
    // [n, oh, ow, c] → [oh·ow, n·c]: one row of updates per output pixel.
    const updates = tf.reshape(tf.transpose(dY, [1, 2, 0, 3]), [oh * ow, n * c]);
    const summed = tf.scatterND(indices, updates, [h * w, n * c]);
    return { dInput: tf.transpose(tf.reshape(summed, [h, w, n, c]), [2, 0, 1, 3]), grads: new Map() };
  }
}
