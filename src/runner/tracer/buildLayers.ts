// Turns a tfjs layers model into the layers the tracer walks, or says exactly which layer it
// cannot trace and why.
import * as tf from '@tensorflow/tfjs';
import { LocatedError } from '../runError';
import type { LayerLocations } from '../layerLocations';
import { describeLayer, layerType, paramHandles } from './layerInfo';
import type { TraceableLayer } from './traceableLayer';
import type { LayerInfo } from '../../shared/traceTypes';
import { DenseTracer } from './layers/dense';
import { Conv2DTracer, convConfig } from './layers/conv2d';
import { BatchNormTracer } from './layers/batchNorm';
import { DropoutTracer } from './layers/dropout';
import { AutodiffLayerTracer } from './layers/autodiffLayer';
import { MaxPoolingTracer } from './layers/maxPooling';
import { EmbeddingTracer } from './layers/embedding';
import { Conv1DTracer } from './layers/conv1d';
import { ThresholdedReLUTracer } from './layers/thresholdedRelu';
import { UpSampling2DTracer } from './layers/upSampling';
import { DepthwiseConv2DTracer } from './layers/depthwiseConv2d';
import { SeparableConv2DTracer } from './layers/separableConv2d';
import { RecurrentLayerTracer } from './layers/recurrent';

type NativeCtor = new (layer: tf.layers.Layer, info: ReturnType<typeof describeLayer>, params: ReturnType<typeof paramHandles>) => TraceableLayer;

/** Layers whose backward pass the tracer writes itself. */
const NATIVE: Record<string, NativeCtor> = {
  Dense: DenseTracer,
  Conv2D: Conv2DTracer,
  BatchNormalization: BatchNormTracer,
  Dropout: DropoutTracer,
  MaxPooling1D: MaxPoolingTracer,
  MaxPooling2D: MaxPoolingTracer,
  Embedding: EmbeddingTracer,
  Conv1D: Conv1DTracer,
};

/** Layers through autodiff of a function equal to their call whose gradient tfjs gets right. */
const AUTODIFF_REWRITTEN: Record<string, NativeCtor> = {
  ThresholdedReLU: ThresholdedReLUTracer,
  UpSampling2D: UpSampling2DTracer,
};

/** Layers through autodiff of their own call once their config passes the tracer's check (it throws the reason). */
const AUTODIFF_CHECKED: Record<string, NativeCtor> = {
  LSTM: RecurrentLayerTracer,
  GRU: RecurrentLayerTracer,
  SimpleRNN: RecurrentLayerTracer,
};

/** Deterministic, stateless layers: tfjs autodiff of the layer's own call is their backward. */
const AUTODIFF = new Set([
  'Activation', 'Flatten', 'Reshape', 'Permute', 'RepeatVector',
  'AveragePooling1D', 'AveragePooling2D',
  'GlobalAveragePooling1D', 'GlobalAveragePooling2D', 'GlobalMaxPooling1D', 'GlobalMaxPooling2D',
  'ZeroPadding2D', 'Cropping2D',
  'ReLU', 'LeakyReLU', 'ELU', 'Softmax', 'PReLU',
  'LayerNormalization', 'SeparableConv2D', 'DepthwiseConv2D',
]);

/** Layers with a backward of their own for backends that lack their gradient kernels. */
const OWN_WHERE_KERNELS_MISSING: Record<string, NativeCtor> = {
  DepthwiseConv2D: DepthwiseConv2DTracer,
  SeparableConv2D: SeparableConv2DTracer,
};

/** Gradient kernels autodiff of these layers needs, which a backend may lack (tfjs-wasm 4.22 does). */
const GRADIENT_KERNELS: Record<string, string[]> = {
  DepthwiseConv2D: ['DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput'],
  SeparableConv2D: ['DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput', 'Conv2DBackpropFilter'],
};

function missingGradientKernels(type: string): string[] {
  const backend = tf.getBackend();
  return (GRADIENT_KERNELS[type] ?? []).filter((kernel) => !tf.getKernel(kernel, backend));
}

const WHY_NOT: Record<string, string> = {
  Bidirectional: 'the Bidirectional wrapper is not traced yet (LSTM, GRU and SimpleRNN are)',
  TimeDistributed: 'wrapper layers are not traced yet',
  GaussianNoise: 'random layers other than Dropout are not traced yet (forward and backward would see different noise)',
  GaussianDropout: 'random layers other than Dropout are not traced yet (forward and backward would see different noise)',
  AlphaDropout: 'random layers other than Dropout are not traced yet (forward and backward would see different noise)',
  SpatialDropout1D: 'random layers other than Dropout are not traced yet (forward and backward would see different noise)',
};

/**
 * tfjs's own layer classes, registered when tfjs loaded (before any user file ran): a layer whose
 * class is not among them is the user's own subclass of tf.layers.Layer, traced through autodiff
 * of its own call.
 */
const BUILT_IN_CLASSES = new Set<unknown>(
  Object.values(tf.serialization.SerializationMap.getMap().classNameMap).map(([cls]) => cls),
);

export function isCustomLayer(layer: tf.layers.Layer): boolean {
  return !BUILT_IN_CLASSES.has(layer.constructor);
}

function unsupported(layer: tf.layers.Layer, index: number, locations: LayerLocations, why: string): LocatedError {
  const location = locations.of(layer);
  return new LocatedError({
    kind: 'unsupported-layer',
    message: `Layer ${index} '${layer.name}' (${layerType(layer)}) cannot be traced: ${why}.`,
    location,
    layer: index,
    layerName: layer.name,
  });
}

export function buildTraceableLayers(model: tf.LayersModel, locations: LayerLocations): TraceableLayer[] {
  if (model.getClassName() !== 'Sequential') {
    throw new LocatedError({
      kind: 'unsupported-layer',
      message: `Only tf.sequential and tf.model models (and hand-written models with tappedModel) are traced; this model is a ${model.getClassName()}.`,
    });
  }
  checkBuilt(model);
  return model.layers.map((layer, index) => buildTraceableLayer(layer, index, locations));
}

export function checkBuilt(model: tf.LayersModel): void {
  if (!model.layers.every((l) => l.built)) {
    throw new LocatedError({
      kind: 'contract',
      message: 'The model is not built: give its first layer an inputShape, e.g. tf.layers.dense({ inputShape: [784], units: 256 }).',
    });
  }
}

/**
 * One layer as the tracer walks it, or the reason it cannot, at the layer's line. `shapes`: a
 * graph node's own shapes (a shared layer's calls each have theirs; tfjs reports none for it).
 */
export function buildTraceableLayer(layer: tf.layers.Layer, index: number, locations: LayerLocations, shapes?: Pick<LayerInfo, 'inputShape' | 'outputShape'>): TraceableLayer {
  const type = layerType(layer);
  const params = paramHandles(layer);
  const location = locations.of(layer);
  const info = { ...describeLayer(layer, index, params, location, false), ...shapes };
  if (isCustomLayer(layer)) return new AutodiffLayerTracer(layer, info, params);
  // Dense on inputs of rank above 2 goes through autodiff; the native pass is written for [batch, units].
  const Native = type === 'Dense' && info.inputShape.length !== 2 ? undefined : NATIVE[type];
  try {
    if (Native) return new Native(layer, { ...info, nativeBackward: true }, params);
  } catch (e) {
    throw unsupported(layer, index, locations, (e as Error).message);
  }
  const Rewritten = AUTODIFF_REWRITTEN[type];
  if (Rewritten) return new Rewritten(layer, info, params);
  const Checked = AUTODIFF_CHECKED[type];
  try {
    if (Checked) return new Checked(layer, info, params);
  } catch (e) {
    throw unsupported(layer, index, locations, (e as Error).message);
  }
  if (type === 'SeparableConv2D' && convConfig(layer).dilation.some((d) => d > 1)) {
    throw unsupported(layer, index, locations, 'dilated separable convolutions are not traced (tfjs has no gradient for them)');
  }
  const missing = missingGradientKernels(type);
  // Where the backend lacks its gradient kernels, the tracer's own backward.
  const Own = missing.length > 0 ? OWN_WHERE_KERNELS_MISSING[type] : undefined;
  if (Own) {
    try {
      return new Own(layer, { ...info, nativeBackward: true }, params);
    } catch (e) {
      throw unsupported(layer, index, locations, (e as Error).message);
    }
  }
  if (missing.length > 0) {
    const names = missing.map((k) => `'${k}'`).join(', ');
    throw unsupported(layer, index, locations, `the ${tf.getBackend()} backend has no ${names} kernel, which its gradient needs; trace it on the cpu backend (--backend cpu, or the gradientLens.backend setting)`);
  }
  if (AUTODIFF.has(type) || NATIVE[type]) return new AutodiffLayerTracer(layer, info, params);
  throw unsupported(layer, index, locations, WHY_NOT[type] ?? `${type} layers are not traced yet`);
}

/** Layers that join branches of a functional model: autodiff of their call over all inputs. */
export const MERGE_LAYERS = new Set(['Add', 'Concatenate', 'Multiply', 'Average', 'Maximum', 'Minimum', 'Dot']);

export function unsupportedLayer(layer: tf.layers.Layer, index: number, locations: LayerLocations, why: string): LocatedError {
  return unsupported(layer, index, locations, why);
}
