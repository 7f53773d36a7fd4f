// A tensor's values read without a fresh array a time: a look at the backend's own memory, read at
// once and never kept (peekFloats), or a copy into an array reused step after step (floatsInto).
// Shared by the tracer (weights before the update) and the capture (summaries, kept tensors), so
// neither imports the other.
import * as tf from '@tensorflow/tfjs';

/** The part of tfjs-backend-wasm's backend used here: a view of a tensor's bytes in its heap. */
interface HeapBackend {
  typedArrayFromHeap(t: tf.TensorInfo): unknown;
}

function hasHeap(backend: unknown): backend is HeapBackend {
  return typeof (backend as Partial<HeapBackend>).typedArrayFromHeap === 'function';
}

/**
 * A tensor's values without a copy where the backend allows: on wasm a view of its heap, on cpu
 * its own storage (elsewhere dataSync's copy). Valid only until the next tfjs call (the heap may
 * move or the tensor be freed): read it, never keep it, never transfer it. Measured at batch 64:
 * the read-backs of a step were ≈ 4 MB of fresh Float32Arrays, and 1.2 ms of GC a step.
 */
export function peekFloats(t: tf.Tensor): Float32Array {
  const backend = tf.backend();
  if (t.dtype === 'float32' && tf.getBackend() === 'wasm' && hasHeap(backend)) {
    const view = backend.typedArrayFromHeap(t);
    if (view instanceof Float32Array) return view;
  }
  const data = t.dataSync();
  return data instanceof Float32Array ? data : Float32Array.from(data);
}

/** Copies `t`'s values into `into` when it has the right length (reused step after step), else into a new array. */
export function floatsInto(t: tf.Tensor, into: Float32Array | undefined): Float32Array {
  const view = peekFloats(t);
  const out = into && into.length === view.length ? into : new Float32Array(view.length);
  out.set(view);
  return out;
}
