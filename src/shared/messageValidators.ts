// What every message from the runner must hold, field by field, and which reply each request
// expects. The runner runs user code (which can call process.send), so the host trusts nothing
// it has not checked here. One table, keyed by message type: adding a message to FromRunner
// without its validator does not compile.
import type { LayerHealth } from './health';
import type { CaptureClose, CopiedStep, CopiedTensor, Envelope, FromCaptureWorker, FromRunner, FromWebview, RunState, ToCaptureWorker, ToRunner, TypeDiagnostic } from './protocol';
import type {
  BackendInfo,
  CapturePolicy,
  GraphEdge,
  LayerInfo,
  ModelGraph,
  ModelSummary,
  ParamInfo,
  Phase,
  RunConfig,
  RunError,
  RunMeta,
  SourceLocation,
  StepIndexEntry,
  StepRecord,
  TensorRole,
  TensorStats,
  TensorSummary,
  TensorValues,
} from './traceTypes';
import { KEYFRAME_PRECISIONS, TENSOR_ROLES } from './traceTypes';
import {
  array,
  boolean,
  count,
  FieldError,
  finite,
  instance,
  integer,
  literal,
  nullable,
  number,
  object,
  optional,
  positive,
  refine,
  string,
  type Check,
} from './fieldChecks';

/** Every member of a string union, listed once; the Record makes a forgotten member a compile error. */
function oneOf<T extends string>(members: Record<T, true>): Check<T> {
  return literal(...(Object.keys(members) as T[]));
}

const dimension: Check<number | null> = nullable(count);

export const sourceLocation: Check<SourceLocation> = object({ file: string, line: positive, column: count });

const backendInfo: Check<BackendInfo> = object({
  name: oneOf<BackendInfo['name']>({ tensorflow: true, wasm: true, cpu: true }),
  reason: string,
  simd: optional(boolean),
  threads: optional(count),
});

const paramInfo: Check<ParamInfo> = object({ name: string, shape: array(count), count, trainable: boolean });

const layerInfo: Check<LayerInfo> = object({
  index: count,
  name: string,
  type: string,
  outputShape: array(dimension),
  inputShape: array(dimension),
  activation: optional(string),
  params: array(paramInfo),
  paramCount: count,
  paramFormula: string,
  location: optional(sourceLocation),
  nativeBackward: boolean,
  call: optional(count),
  sharesParamsWith: optional(count),
});

const graphEdge: Check<GraphEdge> = object({ from: count, fromInput: optional(boolean), to: count, slot: count });

const modelGraph: Check<ModelGraph> = object({
  inputs: array(object({ name: string, shape: array(dimension) })),
  edges: array(graphEdge),
  outputs: array(object({ node: count, name: string })),
});

/** A graph whose edges and outputs name nodes and inputs that exist. */
function graphOf(summary: ModelSummary, at: string): void {
  const g = summary.graph;
  if (!g) return;
  const nodes = summary.layers.length;
  g.edges.forEach((e, i) => {
    const producers = e.fromInput ? g.inputs.length : nodes;
    if (e.from >= producers) throw new FieldError(`${at}.graph.edges[${i}].from`, `an index below ${producers}`, e.from);
    if (e.to >= nodes) throw new FieldError(`${at}.graph.edges[${i}].to`, `a node index below ${nodes}`, e.to);
  });
  g.outputs.forEach((o, i) => {
    if (o.node >= nodes) throw new FieldError(`${at}.graph.outputs[${i}].node`, `a node index below ${nodes}`, o.node);
  });
}

const modelSummaryFields: Check<ModelSummary> = object({
  name: string,
  kind: literal('layers', 'tapped'),
  inputShape: array(dimension),
  layers: array(layerInfo),
  totalParams: count,
  trainableParams: count,
  graph: optional(modelGraph),
});

const modelSummary: Check<ModelSummary> = (v, at) => {
  const summary = modelSummaryFields(v, at);
  graphOf(summary, at);
  return summary;
};

/** A capture policy, also the one a model file's defineTraining asks for (checked before the run writes it into meta.json). */
export const capturePolicy: Check<CapturePolicy> = object({
  summaries: boolean,
  sampleIndices: array(count),
  keyframeEvery: count,
  stepBudgetBytes: count,
  keyframeBudgetBytes: count,
  traceBudgetBytes: optional(count),
  keyframePrecision: optional(literal(...KEYFRAME_PRECISIONS)),
});

const runConfig: Check<RunConfig> = object({
  batchSize: positive,
  steps: count,
  seed: integer,
  loss: string,
  optimizer: string,
  learningRate: optional(number),
  evalEvery: count,
  capture: capturePolicy,
});

export const runMeta: Check<RunMeta> = object({
  formatVersion: literal(1),
  runId: string,
  file: string,
  lesson: optional(string),
  createdAt: string,
  backend: backendInfo,
  model: modelSummary,
  config: runConfig,
  classNames: optional(array(string)),
  tfjsVersion: string,
});

const phase: Check<Phase> = oneOf<Phase>({ forward: true, loss: true, backward: true, update: true });

const tensorRole: Check<TensorRole> = literal(...TENSOR_ROLES);

const tensorStats: Check<TensorStats> = object({
  count,
  mean: number,
  std: number,
  min: number,
  max: number,
  l2: number,
  zeroFraction: number,
  nanCount: count,
  infCount: count,
  histogram: instance(Uint32Array, 'a Uint32Array'),
  deadUnitFraction: optional(number),
});

const tensorSummary: Check<TensorSummary> = object({ layer: integer, role: tensorRole, param: optional(string), shape: array(count), stats: optional(tensorStats) });

const floats = instance(Float32Array, 'a Float32Array');

const tensorValues: Check<TensorValues> = object({
  layer: integer,
  role: tensorRole,
  param: optional(string),
  scope: literal('sample', 'batch', 'full'),
  sampleIndices: optional(array(count)),
  shape: array(count),
  values: floats,
});

const stepIndexEntry: Check<StepIndexEntry> = object({ step: count, loss: number, accuracy: nullable(number), testAccuracy: nullable(number) });

const runError: Check<RunError> = object({
  kind: oneOf<RunError['kind']>({
    syntax: true,
    type: true,
    load: true,
    contract: true,
    'unsupported-layer': true,
    'user-exception': true,
    'non-finite': true,
    'runner-crashed': true,
    timeout: true,
    protocol: true,
    write: true,
    internal: true,
  }),
  message: string,
  location: optional(sourceLocation),
  step: optional(count),
  layer: optional(integer),
  layerName: optional(string),
  stack: optional(string),
});

const layerHealth: Check<LayerHealth> = object({
  layer: count,
  activationMean: optional(number),
  activationStd: optional(number),
  deadFraction: optional(number),
  gradNorm: optional(number),
  gradToWeight: optional(number),
  updateToWeight: optional(number),
  nonFinite: boolean,
  flags: array(oneOf<LayerHealth['flags'][number]>({ 'non-finite': true, 'dead-units': true, 'vanishing-gradient': true, 'exploding-gradient': true })),
});

const stepRecord: Check<StepRecord> = object({
  step: count,
  loss: number,
  accuracy: optional(number),
  testLoss: optional(number),
  testAccuracy: optional(number),
  outputLosses: optional(array(number)),
  stepMs: finite,
  keyframe: boolean,
  keyframeDropped: optional(boolean),
  samplesDropped: optional(boolean),
  summaries: array(tensorSummary),
  tensors: array(tensorValues),
  samples: optional(array(object({ index: count, target: array(number), prediction: array(number) }))),
  health: optional(array(layerHealth)),
});

const typeDiagnostic: Check<TypeDiagnostic> = object({ file: string, line: positive, column: count, code: count, message: string });

const runState: Check<RunState> = oneOf<RunState>({ loading: true, running: true, paused: true, finished: true, stopped: true, failed: true });

type MessageOf<K extends FromRunner['type']> = Extract<FromRunner, { type: K }>;

/** One validator per message type from the runner. */
const RUNNER_MESSAGES: { [K in FromRunner['type']]: Check<MessageOf<K>> } = {
  hello: object({ type: literal('hello'), pid: positive, backend: backendInfo }),
  summary: object({ type: literal('summary'), model: modelSummary, config: runConfig, backend: backendInfo }),
  started: object({ type: literal('started'), meta: runMeta, traceDir: string }),
  atPhase: object({ type: literal('atPhase'), step: count, phase, layer: integer, record: optional(stepRecord) }),
  stepDone: object({ type: literal('stepDone'), entry: stepIndexEntry, stepMs: finite, health: array(layerHealth) }),
  state: object({ type: literal('state'), state: runState, step: count, endedEarly: optional(string) }),
  failed: object({ type: literal('failed'), error: runError }),
  log: object({ type: literal('log'), level: literal('info', 'warn', 'error'), text: string }),
  typeDiagnostics: object({ type: literal('typeDiagnostics'), diagnostics: array(typeDiagnostic) }),
  ack: object({ type: literal('ack') }),
};

/** The replies each request may get besides `failed` (which any request may get). */
export const EXPECTED_REPLY: { [K in ToRunner['type']]: readonly FromRunner['type'][] } = {
  load: ['summary'],
  start: ['started'],
  control: ['ack'],
  stop: [],
};

/** A message from the runner that breaks the protocol; `message` says which field and why. */
export class ProtocolViolation extends Error {}

const envelope = object({ id: integer, inReplyTo: optional(integer), body: object({ type: string }) });

/** The envelope with its checked body (no `inReplyTo` key where the message had none). */
function checkedEnvelope<T>(env: { id: number; inReplyTo?: number }, body: T): Envelope<T> {
  return env.inReplyTo === undefined ? { id: env.id, body } : { id: env.id, inReplyTo: env.inReplyTo, body };
}

/** Checks an envelope and its body against the table's validator for the body's type; throws a ProtocolViolation. */
function parseWith<M extends { type: string }>(raw: unknown, table: { [K in M['type']]: Check<Extract<M, { type: K }>> }, what: string): Envelope<M> {
  try {
    const env = envelope(raw, '');
    const type = env.body.type;
    if (!Object.hasOwn(table, type)) throw new FieldError('body.type', `${what} type (${Object.keys(table).join(', ')})`, type);
    const check = table[type as M['type']] as Check<M>;
    return checkedEnvelope(env, check(env.body, `'${type}'`));
  } catch (e) {
    if (e instanceof FieldError) throw new ProtocolViolation(e.message);
    throw e;
  }
}

/** Checks a raw IPC message from the runner field by field; throws a ProtocolViolation. */
export function parseRunnerMessage(raw: unknown): Envelope<FromRunner> {
  return parseWith<FromRunner>(raw, RUNNER_MESSAGES, 'a runner message');
}

export function describeViolation(reason: string): string {
  return `The runner sent a message that breaks the protocol (${reason}); the run was ended. Does the model file call process.send?`;
}

/**
 * What the runner's watch thread says when the runner's main thread has not turned its event
 * loop for a while (sent on a descriptor of its own: the IPC channel needs that event loop).
 */
export interface BusyReport {
  type: 'busy';
  /** How long the main thread has been busy. */
  forMs: number;
  /** The innermost frame in the user's code, when the busy stack has one. */
  location?: SourceLocation;
  /** The user's frames, innermost first (at most a few). */
  frames: SourceLocation[];
}

const busyReport: Check<BusyReport> = object({ type: literal('busy'), forMs: count, location: optional(sourceLocation), frames: array(sourceLocation) });

/** Checks one line of the runner's busy-report channel; throws a ProtocolViolation. */
export function parseBusyReport(line: string): BusyReport {
  try {
    return busyReport(JSON.parse(line), 'busy report');
  } catch (e) {
    if (e instanceof FieldError || e instanceof SyntaxError) throw new ProtocolViolation(`busy report: ${e.message}`);
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// Webview → host. The panel is our code, but a webview's messages cross a process boundary and
// are checked the same way: one validator per message type, a new type does not compile without one.

type PanelMessageOf<K extends FromWebview['type']> = Extract<FromWebview, { type: K }>;

const WEBVIEW_MESSAGES: { [K in FromWebview['type']]: Check<PanelMessageOf<K>> } = {
  ready: object({ type: literal('ready') }),
  requestStep: object({ type: literal('requestStep'), step: count }),
  requestHistory: object({ type: literal('requestHistory'), layer: count, role: tensorRole, param: optional(string), maxColumns: positive }),
  layerSelected: object({ type: literal('layerSelected'), layer: count }),
  control: object({
    type: literal('control'),
    action: literal('pause', 'continue', 'stepPhase', 'stepBatch', 'runTo', 'stop'),
    toStep: optional(count),
  }),
  position: object({ type: literal('position'), step: count, phaseIndex: count }),
  requestBaselineStep: object({ type: literal('requestBaselineStep'), step: count }),
  compareTolerance: object({ type: literal('compareTolerance'), tolerance: refine(finite, 'a finite number ≥ 0', (t) => t >= 0) }),
  compareAction: object({ type: literal('compareAction'), action: literal('close', 'report') }),
};

/** Checks a message from the panel field by field; throws a ProtocolViolation. */
export function parseWebviewMessage(raw: unknown): Envelope<FromWebview> {
  return parseWith<FromWebview>(raw, WEBVIEW_MESSAGES, 'a panel message');
}

// ---------------------------------------------------------------------------------------------
// The runner's training thread ⇄ its capture worker. Both ends are ours, but a message between
// threads is a boundary like any other: checked the same way, one validator per message type in
// each direction, so a new message does not compile without one.

type CaptureMessageOf<M extends { type: string }, K extends M['type']> = Extract<M, { type: K }>;

const copiedTensor: Check<CopiedTensor> = object({ layer: integer, role: tensorRole, param: optional(string), shape: array(count), perExample: boolean, values: floats, baseline: optional(floats) });

const copiedStep: Check<CopiedStep> = object({
  step: count,
  keyframe: boolean,
  batchSize: count,
  loss: number,
  accuracy: optional(number),
  outputLosses: optional(array(number)),
  prediction: floats,
  target: floats,
  outputSize: count,
  captures: array(copiedTensor),
});

const runEnd: Check<CaptureClose['end']> = object({ state: literal('finished', 'stopped', 'failed'), error: optional(runError) });

const TO_CAPTURE_WORKER: { [K in ToCaptureWorker['type']]: Check<CaptureMessageOf<ToCaptureWorker, K>> } = {
  open: object({ type: literal('open'), outDir: string, meta: runMeta, progress: instance(SharedArrayBuffer, 'a SharedArrayBuffer') }),
  step: object({ type: literal('step'), step: copiedStep, stepMs: finite, testLoss: optional(number), testAccuracy: optional(number) }),
  record: object({ type: literal('record'), record: stepRecord }),
  close: object({ type: literal('close'), end: runEnd }),
};

const FROM_CAPTURE_WORKER: { [K in FromCaptureWorker['type']]: Check<CaptureMessageOf<FromCaptureWorker, K>> } = {
  opened: object({ type: literal('opened') }),
  written: object({ type: literal('written'), entry: optional(stepIndexEntry), stepMs: optional(finite), health: optional(array(layerHealth)), failure: optional(runError), busyMs: finite, buffers: optional(array(instance(ArrayBuffer, 'an ArrayBuffer'))) }),
  closed: object({ type: literal('closed') }),
  captureFailed: object({ type: literal('captureFailed'), message: string, error: optional(runError) }),
};

/** The reply each request to the capture worker expects besides `captureFailed` (which any may get). */
export const CAPTURE_EXPECTED_REPLY = {
  open: ['opened'],
  step: ['written'],
  record: ['written'],
  close: ['closed'],
} as const satisfies { [K in ToCaptureWorker['type']]: readonly FromCaptureWorker['type'][] };

/** Checks a request the capture worker received; throws a ProtocolViolation. */
export function parseCaptureRequest(raw: unknown): Envelope<ToCaptureWorker> {
  return parseWith<ToCaptureWorker>(raw, TO_CAPTURE_WORKER, 'a capture request');
}

/** Checks a reply from the capture worker; throws a ProtocolViolation. */
export function parseCaptureReply(raw: unknown): Envelope<FromCaptureWorker> {
  return parseWith<FromCaptureWorker>(raw, FROM_CAPTURE_WORKER, 'a capture worker message');
}
