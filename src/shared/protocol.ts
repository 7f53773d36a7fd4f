// The one protocol of Gradient Lens: messages between the extension host (or the CLI) and the
// runner child process, and between the extension host and the webview panel. Every message
// travels in an Envelope; a request's reply carries the request's id in `inReplyTo`.

import type {
  BackendInfo,
  ModelSummary,
  Phase,
  RunConfig,
  RunError,
  RunMeta,
  StepIndexEntry,
  StepRecord,
  TensorRole,
} from './traceTypes';
import type { LayerHealth } from './health';

export interface Envelope<T> {
  id: number;
  inReplyTo?: number;
  body: T;
}

// ---------------------------------------------------------------------------------------------
// Host → runner

/** Bundle the user's file, build its model without training, and reply with a SummaryReply. */
export interface LoadRequest {
  type: 'load';
  file: string;
  /** The folder the file's code runs in (its relative paths); default: the runner's own. */
  cwd?: string;
}

/** Start a traced run; the runner replies with Started, then streams StepDone messages. */
export interface StartRequest {
  type: 'start';
  file: string;
  /** Folder to write the trace into (created if missing). */
  outDir: string;
  /** The folder the file's code runs in (its relative paths); default: the runner's own. */
  cwd?: string;
  /** Overrides of what the user's defineTraining says (steps, seed, batch size, capture). */
  overrides?: Partial<Omit<RunConfig, 'capture'>> & { capture?: Partial<RunConfig['capture']> };
  /** Hold before the first phase, like a debugger started with "stop on entry". */
  startPaused?: boolean;
  lesson?: string;
  /** Type-check the file alongside training (default 'warn'): see TypeCheckMode. */
  typeCheck?: TypeCheckMode;
}

/**
 * What the runner's type check does: 'warn' reports type errors as located warnings
 * (TypeDiagnostics) and trains on, as tsx, Bun and Deno do; 'error' also fails the run at the
 * first one; 'off' skips the check.
 */
export type TypeCheckMode = 'off' | 'warn' | 'error';

export type ControlAction = 'pause' | 'continue' | 'stepPhase' | 'stepBatch' | 'runTo';

/** Live control of a started run. `runTo` runs until `toStep` has completed, then pauses. */
export interface ControlRequest {
  type: 'control';
  action: ControlAction;
  toStep?: number;
}

/** Finish the record being written, close the trace and exit. The host kills after a grace period. */
export interface StopRequest {
  type: 'stop';
}

export type ToRunner = LoadRequest | StartRequest | ControlRequest | StopRequest;

// ---------------------------------------------------------------------------------------------
// Runner → host

/** The runner process is up and listening. */
export interface RunnerHello {
  type: 'hello';
  pid: number;
  backend: BackendInfo;
}

/** Reply to LoadRequest: the model built without training. */
export interface SummaryReply {
  type: 'summary';
  model: ModelSummary;
  config: RunConfig;
  backend: BackendInfo;
}

/** Reply to StartRequest: the run's metadata; `traceDir` already holds meta.json and the (empty) step files. */
export interface Started {
  type: 'started';
  meta: RunMeta;
  traceDir: string;
}

/** The run is held at a phase boundary (after pause or stepPhase). */
export interface AtPhase {
  type: 'atPhase';
  step: number;
  phase: Phase;
  /** The layer the phase concerns (-1 for loss). */
  layer: number;
  /**
   * What the held step has computed so far (summaries and the selected examples of every phase
   * up to this one): the step is not in the trace until it completes.
   */
  record?: StepRecord;
}

/** A training step completed and its record is on disk. */
export interface StepDone {
  type: 'stepDone';
  entry: StepIndexEntry;
  stepMs: number;
  health: LayerHealth[];
}

export type RunState = 'loading' | 'running' | 'paused' | 'finished' | 'stopped' | 'failed';

/** The run's state changed. */
export interface StateChanged {
  type: 'state';
  state: RunState;
  step: number;
  /** Why a run finished before its planned steps (model.fit's early stopping, say). */
  endedEarly?: string;
}

/** Something went wrong; `error.location` points into the user's file when it can. */
export interface RunFailed {
  type: 'failed';
  error: RunError;
}

/** One type error the TypeScript compiler found in the user's file or a file it imports. */
export interface TypeDiagnostic {
  file: string;
  line: number;
  column: number;
  /** TypeScript's error number: 2322 for TS2322. */
  code: number;
  /** The whole message, every line of its chain. */
  message: string;
}

/** The type check's errors, the first one first; sent once, only when there are any. */
export interface TypeDiagnostics {
  type: 'typeDiagnostics';
  diagnostics: TypeDiagnostic[];
}

/** A line the user's code printed (console.log), for the output channel. */
export interface RunnerLog {
  type: 'log';
  level: 'info' | 'warn' | 'error';
  text: string;
}

/** Acknowledges a control request. */
export interface Ack {
  type: 'ack';
}

export type FromRunner =
  | RunnerHello
  | SummaryReply
  | Started
  | AtPhase
  | StepDone
  | StateChanged
  | RunFailed
  | RunnerLog
  | TypeDiagnostics
  | Ack;

// ---------------------------------------------------------------------------------------------
// Host → webview

/** Everything the panel needs to draw a run, except per-step tensors. */
export interface InitRun {
  type: 'init';
  meta: RunMeta;
  /** The run's trace folder: what the panel persists to find the run again after a reload. */
  runDir: string;
  /** The loss curve, downsampled to at most a few thousand points. */
  curve: StepIndexEntry[];
  stepCount: number;
  state: RunState;
  error?: RunError;
  live: boolean;
  /** Steps whose full tensors are in the trace (kept keyframes), sorted; absent from hosts before the trace budget. */
  fullTensorSteps?: number[];
}

/** Reply to RequestStep: one step's record (summaries and kept tensors). */
export interface StepData {
  type: 'stepData';
  record: StepRecord;
}

/** Histograms of one tensor over the run, downsampled to at most `maxColumns` steps (a heat strip). */
export interface HistorySeries {
  type: 'history';
  layer: number;
  role: TensorRole;
  param?: string;
  steps: number[];
  /** For each step: [min, max] of the histogram's range. */
  ranges: [number, number][];
  /** For each step: 64 counts. */
  histograms: number[][];
  /** Steps left out because their record is damaged (the trace's `damage` says where). */
  skipped?: number;
}

/** A live run progressed: new points for the curve. */
export interface RunProgress {
  type: 'progress';
  entries: StepIndexEntry[];
  stepCount: number;
  state: RunState;
  atPhase?: AtPhase;
  error?: RunError;
  /** The kept keyframes now (they thin out as the run grows): replaces the list the panel had. */
  fullTensorSteps?: number[];
}

/** The editor's cursor moved onto a layer's line. */
export interface SelectLayer {
  type: 'selectLayer';
  layer: number;
}

/** The editor moved through the recorded run (Step Back, Run to Step…): show this position. */
export interface GoTo {
  type: 'goTo';
  step: number;
  /** Index into the step's phase walk (phaseStops). */
  phaseIndex: number;
}

/** A layer of the panel's run and its counterpart in the compared (baseline) run, when it has one. */
export interface ComparedLayer {
  /** Index and name in the panel's run. */
  index: number;
  name: string;
  /** Index and name in the baseline; undefined: only in the panel's run, not compared. */
  baselineIndex?: number;
  baselineName?: string;
}

/** Where the two runs first differ, placed in the panel's own phase walk (the jump target). */
export interface CompareDivergence {
  step: number;
  /** Index into the panel run's phase walk (phaseStops) of the stop that differs. */
  phaseIndex: number;
  /** The layer in the panel run's numbering (-1 for loss and update). */
  layer: number;
  /** "forward · dense_Dense2". */
  where: string;
  /** The first few quantities that differ there, in words ("z mean: 0.1707 here, 0.1532 in the baseline"). */
  differences: string[];
  /** How many more differ at that stop. */
  moreDifferences: number;
}

/** Show the run compared with a baseline run (computed on the host by the trace's run diff). */
export interface CompareRun {
  type: 'compare';
  baselineDir: string;
  /** The baseline in a few words: file, when, backend, seed. */
  baselineLabel: string;
  /** The baseline's loss curve, downsampled like InitRun's. */
  baselineCurve: StepIndexEntry[];
  baselineStepCount: number;
  /** 0: exact. See src/trace/runDiff.ts for what a tolerance means. */
  tolerance: number;
  identical: boolean;
  sharedSteps: number;
  divergence?: CompareDivergence;
  /** Every layer of the panel's run, with its match in the baseline. */
  layers: ComparedLayer[];
  /** Baseline layers with no counterpart in the panel's run. */
  baselineOnly: { index: number; name: string }[];
  /** What else differs (file, seed, backend, step counts), in words. */
  notes: string[];
}

/** The panel stops comparing (the baseline is closed), or a saved comparison was not restored. */
export interface CompareEnded {
  type: 'compareEnded';
  /** Why a comparison saved before a reload is not shown ("The baseline run no longer exists: …"). */
  notice?: string;
}

/** Reply to RequestBaselineStep: the baseline's record of that step, none when it has no such step. */
export interface BaselineStepData {
  type: 'baselineStepData';
  step: number;
  record?: StepRecord;
}

export type ToWebview = InitRun | StepData | HistorySeries | RunProgress | SelectLayer | GoTo | CompareRun | CompareEnded | BaselineStepData;

// ---------------------------------------------------------------------------------------------
// Webview → host

/** The panel's script has loaded and listens; send InitRun. */
export interface WebviewReady {
  type: 'ready';
}

/** Send the record of this step (replied with StepData). */
export interface RequestStep {
  type: 'requestStep';
  step: number;
}

/** Send histories for this layer's tensors (replied with HistorySeries messages). */
export interface RequestHistory {
  type: 'requestHistory';
  layer: number;
  role: TensorRole;
  param?: string;
  maxColumns: number;
}

/** The user selected a layer in the panel: reveal its line in the editor. */
export interface LayerSelected {
  type: 'layerSelected';
  layer: number;
}

/** Live control from the panel's buttons. */
export interface ControlFromPanel {
  type: 'control';
  action: ControlAction | 'stop';
  toStep?: number;
}

/** The user moved through the run in the panel: the editor's inline values and hovers follow. */
export interface PositionChanged {
  type: 'position';
  step: number;
  phaseIndex: number;
}

/** While comparing: send the baseline's record of this step (replied with BaselineStepData). */
export interface RequestBaselineStep {
  type: 'requestBaselineStep';
  step: number;
}

/** While comparing: compare again with this tolerance (≥ 0; replied with a new CompareRun). */
export interface CompareTolerance {
  type: 'compareTolerance';
  tolerance: number;
}

/** The user closed the compare view (or asked for the full report document). */
export interface CompareAction {
  type: 'compareAction';
  action: 'close' | 'report';
}

export type FromWebview =
  | WebviewReady
  | RequestStep
  | RequestHistory
  | LayerSelected
  | ControlFromPanel
  | PositionChanged
  | RequestBaselineStep
  | CompareTolerance
  | CompareAction;

/** What the panel persists with setState: ids and position only, never data. */
export interface PanelState {
  runDir: string;
  step: number;
  /** Position within the step: index into the step's phase list. */
  phaseIndex: number;
  selectedLayer: number;
  /** The run compared with and the tolerance, so a reload restores the compare view (the host checks the folder). */
  compare?: { baselineDir: string; tolerance: number };
}

// ---------------------------------------------------------------------------------------------
// Runner's training thread ⇄ its capture worker (worker_threads). The training thread copies each
// step's captured tensors out of the backend (one memcpy each, about 5× cheaper than summarising
// them there) and hands them over; the worker summarises them, builds the record, judges its
// health, encodes it and appends it to the trace, one message at a time, in order, each answered
// by a reply to its id.

/** A captured tensor's values, copied out of the backend: the capture worker's to summarise. */
export interface CopiedTensor {
  layer: number;
  role: TensorRole;
  param?: string;
  shape: number[];
  /** True when the first dimension is the batch (so single examples can be cut out). */
  perExample: boolean;
  values: Float32Array;
  /** When set, the captured quantity is `values − baseline` (ΔW: after − before the update). */
  baseline?: Float32Array;
}

/** A finished (or held) step as the capture worker builds its record from it. */
export interface CopiedStep {
  step: number;
  keyframe: boolean;
  batchSize: number;
  loss: number;
  accuracy?: number;
  /** A model with several outputs: each one's loss. */
  outputLosses?: number[];
  /** Empty in a partial step (one held before its loss). */
  prediction: Float32Array;
  target: Float32Array;
  outputSize: number;
  captures: CopiedTensor[];
}

/** Create the trace folder and its files; replied with CaptureOpened. */
export interface CaptureOpen {
  type: 'open';
  outDir: string;
  meta: RunMeta;
  /**
   * One Int32 the worker adds 1 to as it finishes each step, which the training thread reads
   * without waiting for the reply (a reply is only seen once its thread yields to the event loop).
   */
  progress: SharedArrayBuffer;
}

/**
 * Build this step's record and append it (the copies' buffers transferred, not copied again);
 * replied with StepWritten. What only the training thread knows comes beside it: the step's time
 * and the held-out metrics measured after it.
 */
export interface CaptureStep {
  type: 'step';
  step: CopiedStep;
  stepMs: number;
  testLoss?: number;
  testAccuracy?: number;
}

/** How the run ended: write end.json and close the files; replied with CaptureClosed. */
export interface CaptureClose {
  type: 'close';
  end: { state: Extract<RunState, 'finished' | 'stopped' | 'failed'>; error?: RunError };
}

/**
 * Append this record, built on the training thread (it does so when the worker is behind, rather
 * than wait for it); its kept tensors' buffers transferred. Replied with StepWritten.
 */
export interface CaptureRecord {
  type: 'record';
  record: StepRecord;
}

export type ToCaptureWorker = CaptureOpen | CaptureStep | CaptureRecord | CaptureClose;

/** Reply to CaptureOpen: the trace's files exist. */
export interface CaptureOpened {
  type: 'opened';
}

/** Reply to CaptureStep: the record is on disk (or, after a non-finite step, dropped: no `entry`). */
export interface StepWritten {
  type: 'written';
  /** Absent when the step was dropped (an earlier step went non-finite). */
  entry?: StepIndexEntry;
  stepMs?: number;
  health?: LayerHealth[];
  /** Set when this step went non-finite: the run stops here. */
  failure?: RunError;
  /** The worker's own time on this step (encoding and writing), for the benchmarks. */
  busyMs: number;
  /** The step's copies' buffers, handed back (transferred) for later steps' copies: no fresh megabytes a step to collect. */
  buffers?: ArrayBuffer[];
}

/** Reply to CaptureClose: end.json is written and the files are closed. */
export interface CaptureClosed {
  type: 'closed';
}

/** A request failed: a write the user must fix (`error`, located at the trace file), or a bug (`message`). */
export interface CaptureFailed {
  type: 'captureFailed';
  message: string;
  error?: RunError;
}

export type FromCaptureWorker = CaptureOpened | StepWritten | CaptureClosed | CaptureFailed;
