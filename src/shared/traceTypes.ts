// The shape of a traced run, shared by the runner (which writes it), the trace reader, the
// extension host and the webview. Plain data only: everything here crosses a process boundary.
import type { LayerHealth } from './health';

/** Where in the user's file something was built (1-based line and column). */
export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

/** Which tfjs backend runs, and why it was chosen over the ones before it. */
export interface BackendInfo {
  name: BackendName;
  /** Human-readable: e.g. "@tensorflow/tfjs-node is not installed; wasm (SIMD) from node_modules". */
  reason: string;
  simd?: boolean;
  threads?: number;
}

/** One parameter tensor of a layer (a kernel, a bias, a batch-norm gamma...). */
export interface ParamInfo {
  name: string;
  shape: number[];
  count: number;
  trainable: boolean;
}

/** One stage of the model as the tracer walks it: a layer of a layers model, or a tap of a hand-written one. */
export interface LayerInfo {
  index: number;
  name: string;
  /** tfjs class name: Dense, Conv2D, ... or "Tap" for a hand-written stage. */
  type: string;
  /** Output shape with the batch dimension as null. */
  outputShape: (number | null)[];
  inputShape: (number | null)[];
  activation?: string;
  params: ParamInfo[];
  paramCount: number;
  /** How the count is made, e.g. "784 × 256 weights + 256 biases = 200,960". */
  paramFormula: string;
  location?: SourceLocation;
  /** True when the tracer writes this layer's backward pass itself; false when tfjs autodiff does. */
  nativeBackward: boolean;
  /**
   * A layer called more than once in a functional model (a shared layer) is one node per call:
   * which call this node is (0, 1, …); such a node is named "<layer name>@<call>".
   */
  call?: number;
  /**
   * A shared layer's later calls: the index of its first call's node, which owns the parameters.
   * Their gradient (the sum over every call) and their update are recorded there; this node
   * lists no params and counts none.
   */
  sharesParamsWith?: number;
}

/** One tensor of a functional model flowing from a producer to the node that reads it. */
export interface GraphEdge {
  /** The producing node's index in `ModelSummary.layers`, or with `fromInput` the model input's index in `ModelGraph.inputs`. */
  from: number;
  fromInput?: boolean;
  /** The reading node's index in `ModelSummary.layers`. */
  to: number;
  /** Which of the reader's inputs this is (0 unless it reads several, e.g. a concatenate). */
  slot: number;
}

/** A functional model's graph: its nodes are `ModelSummary.layers`, in the topological order they are traced. */
export interface ModelGraph {
  inputs: { name: string; shape: (number | null)[] }[];
  edges: GraphEdge[];
  /** The nodes whose outputs are the model's outputs, in the model's output order. */
  outputs: { node: number; name: string }[];
}

export interface ModelSummary {
  name: string;
  kind: 'layers' | 'tapped';
  inputShape: (number | null)[];
  layers: LayerInfo[];
  totalParams: number;
  trainableParams: number;
  /** Functional models (tf.model) only: how the nodes connect. Without it the layers form a chain. */
  graph?: ModelGraph;
}

export interface RunConfig {
  batchSize: number;
  steps: number;
  seed: number;
  loss: string;
  optimizer: string;
  learningRate?: number;
  /** Evaluate on the test split every this many steps (0: never). */
  evalEvery: number;
  capture: CapturePolicy;
}

export interface CapturePolicy {
  /** Summaries (stats + histogram) for every captured tensor, every step. */
  summaries: boolean;
  /** Batch indices whose full per-sample tensors are kept every step. */
  sampleIndices: number[];
  /** Whole-batch tensors and full weights every this many steps (0: never); step 0 and the last are always keyframes. */
  keyframeEvery: number;
  /** Byte budget for the full tensors of an ordinary step. */
  stepBudgetBytes: number;
  /** Byte budget for the full tensors of a keyframe (by default it scales to the model: see runConfig.ts). */
  keyframeBudgetBytes: number;
  /**
   * Byte budget for the whole trace folder, which no step count can exceed: keyframes thin out
   * (every k-th kept, k doubling) and, for very long runs, ordinary steps keep summaries only.
   * Absent in traces written before the budget existed (unbounded).
   */
  traceBudgetBytes?: number;
  /**
   * How keyframe tensors are stored, both deflated after splitting each value's bytes into planes:
   * 'exact' keeps float32 bit for bit; 'float16' halves them again, at a relative error of at most
   * 2^-11 (4.9e-4) for |x| in [6.1e-5, 65504], an absolute error of at most 2^-25 (3e-8) below
   * that, and ±Infinity above 65504. Absent: 'exact'.
   */
  keyframePrecision?: KeyframePrecision;
}

export const KEYFRAME_PRECISIONS = ['exact', 'float16'] as const;
export type KeyframePrecision = (typeof KEYFRAME_PRECISIONS)[number];

export interface RunMeta {
  formatVersion: 1;
  runId: string;
  /** The user's model file, absolute. */
  file: string;
  lesson?: string;
  createdAt: string;
  backend: BackendInfo;
  model: ModelSummary;
  config: RunConfig;
  /** Class names when the targets are one-hot class labels (e.g. Fashion-MNIST's "T-shirt/top"...). */
  classNames?: string[];
  tfjsVersion: string;
}

/** Which moment of a training step a tensor belongs to. */
export type Phase = 'forward' | 'loss' | 'backward' | 'update';

/**
 * What a captured tensor is. Forward: input, preactivation (z), activation (a). Backward:
 * gradActivation (∂L/∂a), gradPreactivation (∂L/∂z), gradParam (∂L/∂W, ∂L/∂b), and where a
 * node's output is read by several nodes of a graph, gradContribution: the part of its ∂L/∂a
 * one reader sent back (its `param` names the reader node, or "loss"; the parts sum to
 * gradActivation). Update: param (the value after the update), delta (ΔW). (The loss phase's
 * predictions and targets are the record's `samples`.) The list is what message validators
 * check a role against.
 */
export const TENSOR_ROLES = ['input', 'preactivation', 'activation', 'gradActivation', 'gradPreactivation', 'gradParam', 'param', 'delta', 'gradContribution'] as const;
export type TensorRole = (typeof TENSOR_ROLES)[number];

/** Bins of every histogram in a trace: part of the format (the codec and the kernels rely on it). */
export const HISTOGRAM_BINS = 64;

/** Summary statistics of one tensor, computed on every element. */
export interface TensorStats {
  count: number;
  mean: number;
  std: number;
  min: number;
  max: number;
  l2: number;
  /** Fraction of elements exactly zero. */
  zeroFraction: number;
  nanCount: number;
  infCount: number;
  /**
   * 64 bins spanning [min, max] of the finite values, adding up to their count. Above 65,536
   * values the bins are estimated from a stratified sample of 65,536; every other statistic is exact.
   */
  histogram: Uint32Array;
  /** For activations of shape [batch, units...]: fraction of units that are zero for every sample. */
  deadUnitFraction?: number;
}

export interface TensorSummary {
  /** Layer index, or -1 for the loss (prediction, target). */
  layer: number;
  role: TensorRole;
  /**
   * Parameter name for gradParam, param and delta (e.g. "kernel", "bias"); for gradContribution
   * the reader node's name (or "loss"); for input, the input's name when a model has several.
   */
  param?: string;
  shape: number[];
  stats?: TensorStats;
}

/** A full tensor's values kept in the trace. */
export interface TensorValues {
  layer: number;
  role: TensorRole;
  param?: string;
  /** 'sample' when only selected batch rows are kept; 'batch' for the whole batch; 'full' for a parameter. */
  scope: 'sample' | 'batch' | 'full';
  /** For scope 'sample': the batch indices kept, in order. */
  sampleIndices?: number[];
  shape: number[];
  values: Float32Array;
}

/** Everything recorded for one training step. */
export interface StepRecord {
  step: number;
  loss: number;
  /** Training-batch accuracy when the targets are class labels. */
  accuracy?: number;
  /** Held-out metrics when the run evaluated on this step: measured after the step's update. */
  testLoss?: number;
  testAccuracy?: number;
  /** A model with several outputs: each output's loss, in the model's output order (they sum to `loss`). */
  outputLosses?: number[];
  /** Wall-clock time of the traced step in ms (forward + backward + update + capture). */
  stepMs: number;
  keyframe: boolean;
  /**
   * A keyframe whose full tensors were dropped to keep the trace within its byte budget (set by
   * the reader; its summaries and the selected samples are still there).
   */
  keyframeDropped?: boolean;
  /** An ordinary step written with summaries only (no sample tensors): the run is too long for its budget otherwise. */
  samplesDropped?: boolean;
  summaries: TensorSummary[];
  tensors: TensorValues[];
  /** Targets and predictions of the selected samples (class index or value). */
  samples?: SampleRecord[];
  /**
   * Each layer's health at this step, judged once, when the record is built (src/shared/health.ts);
   * absent from records written before it was stored, and from a held step's partial record.
   */
  health?: LayerHealth[];
}

export interface SampleRecord {
  index: number;
  target: number[];
  prediction: number[];
}

/** One line of the index: what the loss curve and a scrubber need without opening the record. */
export interface StepIndexEntry {
  step: number;
  loss: number;
  accuracy: number | null;
  testAccuracy: number | null;
}

/** A located error: what went wrong, and where in the user's file. */
export interface RunError {
  kind:
    | 'syntax'
    | 'type'
    | 'load'
    | 'contract'
    | 'unsupported-layer'
    | 'user-exception'
    | 'non-finite'
    | 'runner-crashed'
    | 'timeout'
    /** The runner sent a message that breaks the protocol (it runs user code, which can call process.send). */
    | 'protocol'
    /** Writing the trace failed (disk full, no permission): the message names the OS error and the path. */
    | 'write'
    | 'internal';
  message: string;
  location?: SourceLocation;
  step?: number;
  /** For non-finite values: the first layer (in phase order) where they appeared. */
  layer?: number;
  layerName?: string;
  stack?: string;
}
