// LSTM, GRU and SimpleRNN as one traced layer each: forward with the layer's own call (the whole
// sequence), backward through tfjs autodiff of that call, which unrolls the time loop; its
// per-step gates stay inside the layer. Checked on tfjs-wasm 4.22, which has every kernel that
// gradient needs. What autodiff of a re-run call cannot follow is refused, with the reason.
import type * as tf from '@tensorflow/tfjs';
import { AutodiffLayerTracer } from './autodiffLayer';
import type { ParamHandle } from '../traceableLayer';
import type { LayerInfo } from '../../../shared/traceTypes';

interface RecurrentConfig {
  stateful?: boolean;
  dropout?: number;
  recurrentDropout?: number;
}

/** Why this recurrent layer's config cannot be traced, or undefined when it can. */
function recurrentRefusal(config: RecurrentConfig): string | undefined {
  // The backward pass re-runs the call: a stateful layer would advance its state twice a step.
  if (config.stateful) return 'stateful recurrent layers are not traced yet (the state would carry between the forward and backward passes)';
  // Each call draws new masks, so the re-run call would not be the function the forward pass ran.
  if ((config.dropout ?? 0) > 0) return 'dropout inside a recurrent layer is not traced yet (forward and backward would see different masks); put a Dropout layer after it';
  if ((config.recurrentDropout ?? 0) > 0) return 'recurrentDropout is not traced yet (forward and backward would see different masks)';
  return undefined;
}

export class RecurrentLayerTracer extends AutodiffLayerTracer {
  constructor(layer: tf.layers.Layer, info: LayerInfo, params: ParamHandle[]) {
    super(layer, info, params);
    const why = recurrentRefusal(layer.getConfig() as RecurrentConfig);
    if (why) throw new Error(why);
  }
}
