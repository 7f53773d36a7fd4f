// Every other layer type the tracer supports (through tfjs autodiff, or its own backward where
// tfjs's is missing or wrong: Conv1D, Embedding, UpSampling2D, ThresholdedReLU), each between a
// layer with weights (so ∂L/∂input through it is checked too) and a softmax classifier: the
// traced step's gradients equal tfjs autodiff of the whole model on the cpu backend, on each
// backend the tracer runs on.
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { TEST_BACKENDS, onCpu, tracerFor, useBackend } from './helpers/tracerHarness';
import { checkAgainstReference, referenceGrads, type Reference } from './helpers/gradientCheck';

const init = (seed: number) => tf.initializers.glorotUniform({ seed });

interface Case {
  name: string;
  /** Shape of one example. */
  input: number[];
  layers: () => tf.layers.Layer[];
  /** The same function for the reference, when stock tfjs cannot differentiate the layer itself. */
  referenceLayers?: () => tf.layers.Layer[];
}

/** ThresholdedReLU written with relu: stock tfjs has no gradient for its `greater`. */
class ThresholdedByRelu extends tf.layers.Layer {
  static className = 'ThresholdedByRelu';
  constructor(private readonly theta: number) {
    super({});
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const shifted = tf.sub(Array.isArray(inputs) ? inputs[0] : inputs, this.theta);
    return tf.add(tf.relu(shifted), tf.mul(tf.step(shifted), this.theta));
  }
}

/** A layer with weights before the one under test, so the gradient must pass through it. */
function weightedLayerFor(input: number[]): tf.layers.Layer {
  if (input.length === 3) return tf.layers.conv2d({ inputShape: input, filters: 3, kernelSize: 1, kernelInitializer: init(31) });
  return tf.layers.dense({ inputShape: input, units: input[input.length - 1], kernelInitializer: init(31) });
}

const CASES: Case[] = [
  { name: 'Activation (elu)', input: [6], layers: () => [tf.layers.activation({ activation: 'elu' })] },
  { name: 'ReLU', input: [6], layers: () => [tf.layers.reLU()] },
  { name: 'LeakyReLU', input: [6], layers: () => [tf.layers.leakyReLU({ alpha: 0.2 })] },
  { name: 'ELU', input: [6], layers: () => [tf.layers.elu()] },
  { name: 'Softmax', input: [6], layers: () => [tf.layers.softmax()] },
  { name: 'ThresholdedReLU', input: [6], layers: () => [tf.layers.thresholdedReLU({ theta: 0.1 })], referenceLayers: () => [new ThresholdedByRelu(0.1)] },
  { name: 'PReLU', input: [6], layers: () => [tf.layers.prelu({ alphaInitializer: tf.initializers.constant({ value: 0.3 }) })] },
  { name: 'LayerNormalization', input: [6], layers: () => [tf.layers.layerNormalization()] },
  { name: 'Reshape', input: [6], layers: () => [tf.layers.reshape({ targetShape: [2, 3] }), tf.layers.flatten()] },
  { name: 'RepeatVector', input: [6], layers: () => [tf.layers.repeatVector({ n: 2 }), tf.layers.flatten()] },
  { name: 'Permute', input: [4, 3], layers: () => [tf.layers.permute({ dims: [2, 1] }), tf.layers.flatten()] },
  { name: 'Conv1D', input: [7, 3], layers: () => [tf.layers.conv1d({ filters: 2, kernelSize: 3, activation: 'relu', kernelInitializer: init(32) }), tf.layers.flatten()] },
  { name: 'Conv1D (same, stride 2)', input: [7, 3], layers: () => [tf.layers.conv1d({ filters: 2, kernelSize: 3, strides: 2, padding: 'same', kernelInitializer: init(32) }), tf.layers.flatten()] },
  // Stock tfjs cannot differentiate dilated convolutions: the reference convolves with the
  // zero-inserted kernel instead (the same function), so its gradients reach both the input and the kernel.
  { name: 'Conv2D (dilation 2, same)', input: [7, 7, 2], layers: () => [tf.layers.conv2d({ filters: 2, kernelSize: 2, dilationRate: 2, padding: 'same', kernelInitializer: init(39) }), tf.layers.flatten()], referenceLayers: () => [new DilatedByZeros(2, [2, 2], 'same'), tf.layers.flatten()] },
  { name: 'Conv2D (dilation [2, 3], valid)', input: [7, 8, 2], layers: () => [tf.layers.conv2d({ filters: 2, kernelSize: [2, 3], dilationRate: [2, 3], kernelInitializer: init(39) }), tf.layers.flatten()], referenceLayers: () => [new DilatedByZeros(2, [2, 3], 'valid', [2, 3]), tf.layers.flatten()] },
  { name: 'Conv1D (dilation 2)', input: [8, 3], layers: () => [tf.layers.conv1d({ filters: 2, kernelSize: 2, dilationRate: 2, kernelInitializer: init(32) }), tf.layers.flatten()], referenceLayers: () => [new DilatedByZeros(2, [1, 2], 'valid', [1, 2], true), tf.layers.flatten()] },
  // On wasm (no depthwise gradient kernels) through the tracer's own backward; on cpu, autodiff.
  // SeparableConv2D likewise.
  { name: 'DepthwiseConv2D', input: [6, 6, 2], layers: () => [tf.layers.depthwiseConv2d({ kernelSize: 3, depthwiseInitializer: init(33) }), tf.layers.flatten()] },
  { name: 'DepthwiseConv2D (×2, same, stride 2, relu)', input: [7, 6, 3], layers: () => [tf.layers.depthwiseConv2d({ kernelSize: [3, 2], depthMultiplier: 2, strides: 2, padding: 'same', activation: 'relu', depthwiseInitializer: init(33) }), tf.layers.flatten()] },
  // tfjs's DepthwiseConv2D ignores its dilationRate; so does the tracer.
  { name: 'DepthwiseConv2D (dilationRate 2, which tfjs ignores)', input: [7, 7, 2], layers: () => [tf.layers.depthwiseConv2d({ kernelSize: 2, dilationRate: 2, depthwiseInitializer: init(33) }), tf.layers.flatten()] },
  { name: 'SeparableConv2D', input: [6, 6, 2], layers: () => [tf.layers.separableConv2d({ filters: 3, kernelSize: 3, depthwiseInitializer: init(34), pointwiseInitializer: init(35) }), tf.layers.flatten()] },
  { name: 'SeparableConv2D (×2, same, relu)', input: [7, 7, 2], layers: () => [tf.layers.separableConv2d({ filters: 3, kernelSize: 2, depthMultiplier: 2, padding: 'same', activation: 'relu', depthwiseInitializer: init(34), pointwiseInitializer: init(35) }), tf.layers.flatten()] },
  { name: 'SeparableConv2D (stride 2)', input: [7, 6, 3], layers: () => [tf.layers.separableConv2d({ filters: 4, kernelSize: 3, strides: 2, depthwiseInitializer: init(34), pointwiseInitializer: init(35) }), tf.layers.flatten()] },
  { name: 'MaxPooling1D', input: [6, 3], layers: () => [tf.layers.maxPooling1d({ poolSize: 2 }), tf.layers.flatten()] },
  { name: 'AveragePooling1D', input: [6, 3], layers: () => [tf.layers.averagePooling1d({ poolSize: 2 }), tf.layers.flatten()] },
  { name: 'GlobalAveragePooling1D', input: [6, 3], layers: () => [tf.layers.globalAveragePooling1d()] },
  { name: 'GlobalMaxPooling1D', input: [6, 3], layers: () => [tf.layers.globalMaxPooling1d()] },
  { name: 'AveragePooling2D', input: [6, 6, 2], layers: () => [tf.layers.averagePooling2d({ poolSize: 2 }), tf.layers.flatten()] },
  { name: 'GlobalAveragePooling2D', input: [5, 5, 2], layers: () => [tf.layers.globalAveragePooling2d({})] },
  { name: 'GlobalMaxPooling2D', input: [5, 5, 2], layers: () => [tf.layers.globalMaxPooling2d({})] },
  { name: 'ZeroPadding2D', input: [4, 4, 2], layers: () => [tf.layers.zeroPadding2d({ padding: 1 }), tf.layers.flatten()] },
  { name: 'Cropping2D', input: [5, 5, 2], layers: () => [tf.layers.cropping2D({ cropping: [[1, 0], [0, 1]] }), tf.layers.flatten()] },
  // tfjs's own ResizeNearestNeighborGrad is wrong on cpu and wasm alike: the reference is the
  // same repetition written as a broadcast.
  { name: 'UpSampling2D', input: [3, 3, 2], layers: () => [tf.layers.upSampling2d({ size: [2, 2] }), tf.layers.flatten()], referenceLayers: () => [new RepeatPixels(2, 2), tf.layers.flatten()] },
  { name: 'UpSampling2D (size 2 × 3)', input: [3, 4, 2], layers: () => [tf.layers.upSampling2d({ size: [2, 3] }), tf.layers.flatten()], referenceLayers: () => [new RepeatPixels(2, 3), tf.layers.flatten()] },
  { name: 'UpSampling2D (bilinear)', input: [3, 3, 2], layers: () => [tf.layers.upSampling2d({ size: [2, 2], interpolation: 'bilinear' }), tf.layers.flatten()] },
];

/** [kh, kw, ci, co] → [(kh − 1)·dh + 1, (kw − 1)·dw + 1, ci, co], zeros between the taps: a dilated conv as a plain one. */
function dilatedKernel(kernel: tf.Tensor4D, [dh, dw]: [number, number]): tf.Tensor4D {
  if (dh === 1 && dw === 1) return kernel;
  const [kh, kw, ci, co] = kernel.shape;
  const spread = tf.pad(tf.reshape(kernel, [kh, 1, kw, 1, ci, co]), [[0, 0], [0, dh - 1], [0, 0], [0, dw - 1], [0, 0], [0, 0]]);
  return tf.slice(tf.reshape(spread, [kh * dh, kw * dw, ci, co]), [0, 0, 0, 0], [(kh - 1) * dh + 1, (kw - 1) * dw + 1, ci, co]) as tf.Tensor4D;
}
/** A dilated convolution written as the plain convolution with the zero-inserted kernel (and a bias). */
class DilatedByZeros extends tf.layers.Layer {
  static className = 'DilatedByZeros';
  private kernel!: tf.LayerVariable;
  private bias!: tf.LayerVariable;
  constructor(
    private readonly filters: number,
    private readonly kernelSize: [number, number],
    private readonly padding: 'same' | 'valid',
    private readonly dilation: [number, number] = [2, 2],
    /** Conv1D: [n, L, c] in and out, a [k, ci, co] kernel. */
    private readonly oneD = false,
  ) {
    super({});
  }
  override build(s: tf.Shape | tf.Shape[]): void {
    const shape = s as number[];
    const ci = shape[shape.length - 1];
    const [kh, kw] = this.kernelSize;
    this.kernel = this.addWeight('kernel', this.oneD ? [kw, ci, this.filters] : [kh, kw, ci, this.filters], 'float32', tf.initializers.zeros());
    this.bias = this.addWeight('bias', [this.filters], 'float32', tf.initializers.zeros());
  }
  override computeOutputShape(s: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = s as number[];
    const out = (size: number, k: number, d: number) => (this.padding === 'same' ? size : size - (k - 1) * d);
    if (this.oneD) return [shape[0], out(shape[1], this.kernelSize[1], this.dilation[1]), this.filters];
    return [shape[0], out(shape[1], this.kernelSize[0], this.dilation[0]), out(shape[2], this.kernelSize[1], this.dilation[1]), this.filters];
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const k = this.kernel.read();
    const kernel4 = (this.oneD ? tf.expandDims(k, 0) : k) as tf.Tensor4D;
    const x4 = (this.oneD ? tf.expandDims(x, 1) : x) as tf.Tensor4D;
    const y = tf.add(tf.conv2d(x4, dilatedKernel(kernel4, this.dilation), 1, this.padding), this.bias.read());
    return this.oneD ? tf.squeeze(y, [1]) : y;
  }
}

/** Nearest upsampling by an integer factor, as a broadcast: each pixel copied sh × sw times. */
class RepeatPixels extends tf.layers.Layer {
  static className = 'RepeatPixels';
  constructor(
    private readonly sh: number,
    private readonly sw: number,
  ) {
    super({});
  }
  override computeOutputShape(s: tf.Shape | tf.Shape[]): tf.Shape {
    const [n, h, w, c] = s as number[];
    return [n, h * this.sh, w * this.sw, c];
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const [n, h, w, c] = x.shape;
    const copies = tf.mul(tf.reshape(x, [n, h, 1, w, 1, c]), tf.ones([1, 1, this.sh, 1, this.sw, 1]));
    return tf.reshape(copies, [n, h * this.sh, w * this.sw, c]);
  }
}

function modelFor(c: Case, middle = c.layers): tf.Sequential {
  return tf.sequential({
    layers: [weightedLayerFor(c.input), ...middle(), tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: init(36) })],
  });
}

/** tfjs autodiff of the whole model (or of its stand-in with the same weights), on cpu. */
async function referenceFor(c: Case, model: tf.Sequential, xs: tf.Tensor, ys: tf.Tensor): Promise<Reference> {
  if (!c.referenceLayers) return onCpu(() => referenceGrads(model, 'categoricalCrossentropy', xs, ys));
  const standIn = modelFor(c, c.referenceLayers);
  standIn.setWeights(model.getWeights());
  const ref = await onCpu(() => referenceGrads(standIn, 'categoricalCrossentropy', xs, ys));
  standIn.dispose();
  return ref;
}

function batchFor(shape: number[], seed: number): { xs: tf.Tensor; ys: tf.Tensor } {
  const xs = tf.randomNormal(shape, 0, 1, 'float32', seed);
  const labels = tf.tensor1d(Array.from({ length: shape[0] }, (_, i) => (i * 5 + seed) % 3), 'int32');
  return { xs, ys: tf.oneHot(labels, 3).toFloat() };
}

for (const backend of TEST_BACKENDS) {
  describe(`more layer types on ${backend}: gradients equal tfjs autodiff (cpu)`, () => {
    before(async () => useBackend(backend));

    for (const c of CASES) {
      it(c.name, async () => {
        const model = modelFor(c);
        const { xs, ys } = batchFor([4, ...c.input], 9);
        const ref = await referenceFor(c, model, xs, ys);
        checkAgainstReference(model, 'categoricalCrossentropy', ref, xs, ys, 0.05, 1e-4);
        model.dispose();
        tf.dispose([xs, ys]);
      });
    }

    it('a dilated SeparableConv2D is refused, with the reason', () => {
      const model = modelFor({ name: '', input: [7, 7, 2], layers: () => [tf.layers.separableConv2d({ filters: 3, kernelSize: 2, dilationRate: 2 }), tf.layers.flatten()] });
      assert.throws(() => tracerFor(model, 'categoricalCrossentropy'), /Layer 1 '.*' \(SeparableConv2D\) cannot be traced: dilated separable convolutions are not traced \(tfjs has no gradient for them\)/);
    });

    for (const dtype of ['int32', 'float32'] as const) {
      it(`Embedding (${dtype} indices): the gradient of its table only`, async () => {
        const model = tf.sequential({
          layers: [
            tf.layers.embedding({ inputDim: 10, outputDim: 4, inputLength: 5, embeddingsInitializer: tf.initializers.randomUniform({ minval: -1, maxval: 1, seed: 37 }) }),
            tf.layers.flatten(),
            tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: init(38) }),
          ],
        });
        // Index 9 never appears, index 0 several times: its rows get zero, and summed, gradients.
        const xs = tf.tensor2d([[0, 1, 2, 0, 3], [4, 0, 5, 6, 7], [8, 8, 0, 1, 2]], [3, 5], dtype);
        const ys = tf.oneHot(tf.tensor1d([0, 1, 2], 'int32'), 3).toFloat();
        const ref = await onCpu(() => referenceGrads(model, 'categoricalCrossentropy', xs, ys));
        checkAgainstReference(model, 'categoricalCrossentropy', ref, xs, ys, 0.05, 1e-4);
        model.dispose();
      });
    }
  });
}
