// Conv1D (channels-last) as the conv2d of a one-row image: [n, L, c] → [n, 1, L, c], its kernel
// [k, ci, co] → [1, k, ci, co]. That gives it conv2d's backward, whose filter gradient needs no
// Conv2DBackpropFilter kernel (tfjs-wasm 4.22 lacks it, so autodiff of tfjs's conv1d fails
// there).
import * as tf from '@tensorflow/tfjs';
import { applyActivation, backThroughActivation, layerActivation } from '../activations';
import { conv2dFilterGrad, dilatedKernel } from './conv2d';
import type { BackwardResult, CaptureSink, Keep, ParamHandle, TraceableLayer } from '../traceableLayer';
import type { LayerInfo } from '../../../shared/traceTypes';

const single = (v: unknown): number => (Array.isArray(v) ? Number(v[0]) : Number(v ?? 1));

export class Conv1DTracer implements TraceableLayer {
  private readonly act;
  private readonly kernel: tf.Variable;
  private readonly bias?: tf.Variable;
  private readonly stride: number;
  private readonly dilation: number;
  private readonly padding: 'valid' | 'same';
  private saved?: { x: tf.Tensor4D; z: tf.Tensor; a: tf.Tensor };

  constructor(
    layer: tf.layers.Layer,
    readonly info: LayerInfo,
    readonly params: ParamHandle[],
  ) {
    const c = layer.getConfig() as Record<string, unknown>;
    if (c.dataFormat !== undefined && c.dataFormat !== 'channelsLast') {
      throw new Error(`dataFormat '${String(c.dataFormat)}' is not traced yet (only channelsLast)`);
    }
    this.stride = single(c.strides);
    this.dilation = single(c.dilationRate);
    if (this.stride > 1 && this.dilation > 1) throw new Error('strides and dilation both above 1 are not traced yet');
    const padding = String(c.padding);
    // tfjs's own conv1d throws on 'causal' ("not implemented yet").
    if (padding !== 'valid' && padding !== 'same') throw new Error(`padding '${padding}' is not traced (tfjs's conv1d supports 'valid' and 'same')`);
    this.padding = padding === 'same' ? 'same' : 'valid';
    this.act = layerActivation(layer);
    this.kernel = params.find((p) => p.name === 'kernel')!.variable;
    this.bias = params.find((p) => p.name === 'bias')?.variable;
  }

  private kernel2d(): tf.Tensor4D {
    const [k, ci, co] = this.kernel.shape;
    return tf.reshape(this.kernel, [1, k, ci, co]);
  }

  forward(x: tf.Tensor, capture: CaptureSink, keep: Keep): tf.Tensor {
    const x4 = tf.expandDims(x, 1) as tf.Tensor4D;
    let z: tf.Tensor = tf.squeeze(tf.conv2d(x4, this.kernel2d(), [1, this.stride], this.padding, 'NHWC', [1, this.dilation]), [1]);
    if (this.bias) z = tf.add(z, this.bias);
    const a = applyActivation(this.act, z, capture);
    this.saved = { x: keep(x4), z: keep(z), a: keep(a) };
    return a;
  }

  backward(dA: tf.Tensor, needInputGrad: boolean, capture: CaptureSink): BackwardResult {
    const { x, z, a } = this.saved!;
    this.saved = undefined;
    const dZ = backThroughActivation(this.act, z, a, dA, capture);
    const dZ4 = tf.expandDims(dZ, 1) as tf.Tensor4D;
    const [k] = this.kernel.shape;
    const cfg = { strides: [1, this.stride] as [number, number], padding: this.padding, dilation: [1, this.dilation] as [number, number], kernelSize: [1, k] as [number, number] };
    const grads = new Map<string, tf.Tensor>();
    grads.set('kernel', tf.reshape(conv2dFilterGrad(x, dZ4, cfg), this.kernel.shape));
    if (this.bias) grads.set('bias', tf.sum(dZ, [0, 1]));
    let dInput: tf.Tensor | undefined;
    if (needInputGrad) {
      // Through the dilated kernel: tfjs has no gradient for dilated convolutions (see conv2d.ts).
      const kernel = dilatedKernel(this.kernel2d(), [1, this.dilation]);
      dInput = tf.squeeze(tf.conv2dTranspose(dZ4, kernel, x.shape, [1, this.stride], this.padding), [1]);
    }
    return { dInput, grads };
  }
}
