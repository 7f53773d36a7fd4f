import type * as tf from '@tensorflow/tfjs';
import type { LayerInfo, TensorRole } from '../../shared/traceTypes';

/** One trainable (or running-statistics) tensor of a layer, with the name the trace shows. */
export interface ParamHandle {
  name: string;
  variable: tf.Variable;
  trainable: boolean;
}

/** Receives the tensors worth showing; the step keeps them alive until the capture is read back. */
export type CaptureSink = (role: TensorRole, tensor: tf.Tensor, param?: string) => void;

/** Keeps a tensor alive past the phase's tidy; the step disposes it when the step ends. */
export type Keep = <T extends tf.Tensor>(tensor: T) => T;

export interface BackwardResult {
  /** ∂L/∂input, when the layer before needs it. */
  dInput?: tf.Tensor;
  /** ∂L/∂param by param name, for trainable params. */
  grads: Map<string, tf.Tensor>;
}

/** A layer as the tracer walks it: its forward pass, and a backward pass the tracer owns. */
export interface TraceableLayer {
  readonly info: LayerInfo;
  readonly params: ParamHandle[];
  /** Runs the layer in training mode; keeps (with `keep`) what its backward pass needs. */
  forward(x: tf.Tensor, capture: CaptureSink, keep: Keep): tf.Tensor;
  backward(dOutput: tf.Tensor, needInputGrad: boolean, capture: CaptureSink): BackwardResult;
}
