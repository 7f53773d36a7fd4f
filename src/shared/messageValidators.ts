// What every message from the runner must hold, field by field, and which reply each request
// expects. The runner runs user code (which can call process.send), so the host trusts nothing
// it has not checked here. One table, keyed by message type: adding a message to FromRunner
// without its validator does not compile.
import type { LayerHealth } from './health';
import type { Envelope, FromRunner, FromWebview, RunState, ToRunner, TypeDiagnostic } from './protocol';
import type {
  BackendInfo,
  CapturePolicy,
  LayerInfo,
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
});

const modelSummary: Check<ModelSummary> = object({
  name: string,
  kind: literal('layers', 'tapped'),
  inputShape: array(dimension),
  layers: array(layerInfo),
  totalParams: count,
  trainableParams: count,
});

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

const tensorValues: Check<TensorValues> = object({
  layer: integer,
  role: tensorRole,
  param: optional(string),
  scope: literal('sample', 'batch', 'full'),
  sampleIndices: optional(array(count)),
  shape: array(count),
  values: instance(Float32Array, 'a Float32Array'),
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
};

/** Checks a message from the panel field by field; throws a ProtocolViolation. */
export function parseWebviewMessage(raw: unknown): Envelope<FromWebview> {
  return parseWith<FromWebview>(raw, WEBVIEW_MESSAGES, 'a panel message');
}
