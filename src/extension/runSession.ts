// One run, live or reopened from its trace: the controller the panel(s), the status bar, the
// inline values and the diagnostics are views of. A live session owns its runner process and
// kills it when the run ends, on Stop, and on dispose; nothing waits on the runner untimed.
import * as vscode from 'vscode';
import type { AtPhase, ControlAction, FromRunner, RunState, StartRequest } from '../shared/protocol';
import type { LayerHealth } from '../shared/health';
import { healthOf } from '../shared/health';
import { phaseStops } from '../shared/phases';
import type { RunError, RunMeta, StepIndexEntry, StepRecord } from '../shared/traceTypes';
import { TraceReader } from '../trace/traceReader';
import { Disposable } from './disposable';
import type { StallNotice } from '../host/runnerClient';
import type { RunnerPort } from './runnerPort';

/** A position in the run: a recorded step and a stop of its phase walk (see phaseStops). */
export interface Cursor {
  step: number;
  phaseIndex: number;
}

export type SessionChange =
  | { kind: 'progress'; entries: StepIndexEntry[] }
  | { kind: 'stall' }
  | { kind: 'state' }
  | { kind: 'atPhase' }
  | { kind: 'cursor' };

const TERMINAL: ReadonlySet<RunState> = new Set(['finished', 'stopped', 'failed']);

let nextSessionId = 1;

export class RunSession extends Disposable {
  readonly id = nextSessionId++;
  private readonly changes = this.register(new vscode.EventEmitter<SessionChange>());
  /** Fires on new steps, state changes, the runner reaching a phase, and cursor moves. */
  readonly onDidChange = this.changes.event;

  private runState: RunState;
  private runError: RunError | undefined;
  private phase: AtPhase | undefined;
  private latestHealth: LayerHealth[] = [];
  /** Where the editor's views are when the user stepped back into history; undefined: following the run. */
  private historyCursor: Cursor | undefined;
  private lastRecord: StepRecord | undefined;
  private stallNotice: StallNotice | undefined;

  private constructor(
    readonly reader: TraceReader,
    private runner: RunnerPort | undefined,
    state: RunState,
    error?: RunError,
  ) {
    super();
    this.runState = state;
    this.runError = error;
    if (runner) {
      this.register(runner.onMessage((m) => this.onRunnerMessage(m)));
      this.register(
        runner.onStall((notice) => {
          this.stallNotice = notice;
          this.changes.fire({ kind: 'stall' });
        }),
      );
      void runner.exited.then(() => this.onRunnerExited());
    }
  }

  /**
   * Starts a run in `runner` (already spawned and ready) and opens its trace as it is written
   * (the runner replies `started` once the trace's files exist).
   */
  static async start(runner: RunnerPort, request: Omit<StartRequest, 'type'>): Promise<RunSession> {
    const early: FromRunner[] = [];
    const listening = runner.onMessage((m) => early.push(m));
    try {
      const started = await runner.start(request);
      const reader = TraceReader.open(started.traceDir, { live: true });
      const session = new RunSession(reader, runner, 'running');
      // Replay what arrived while the trace was being opened (the hold at entry, first steps).
      for (const m of early) session.onRunnerMessage(m);
      return session;
    } finally {
      listening.dispose();
    }
  }

  /** A recorded run, from its folder: no runner, read only. */
  static open(dir: string): RunSession {
    const reader = TraceReader.open(dir);
    const end = reader.end;
    return new RunSession(reader, undefined, end?.state ?? 'stopped', end?.error);
  }

  get runDir(): string {
    return this.reader.dir;
  }

  get meta(): RunMeta {
    return this.reader.meta;
  }

  /** The user's model file of this run. */
  get file(): string {
    return this.reader.meta.file;
  }

  get live(): boolean {
    return this.runner !== undefined && !TERMINAL.has(this.runState);
  }

  get state(): RunState {
    return this.runState;
  }

  get error(): RunError | undefined {
    return this.runError;
  }

  get atPhase(): AtPhase | undefined {
    return this.phase;
  }

  /** While the live runner makes no progress: how long, and where it is busy when that is known. */
  get stall(): StallNotice | undefined {
    return this.live ? this.stallNotice : undefined;
  }

  get stepCount(): number {
    return this.reader.stepCount;
  }

  /** The newest recorded step, or -1 before the first. */
  get lastStep(): number {
    return this.stepCount > 0 ? this.reader.entry(this.stepCount - 1).step : -1;
  }

  get lastLoss(): number | undefined {
    return this.stepCount > 0 ? this.reader.entry(this.stepCount - 1).loss : undefined;
  }

  get health(): LayerHealth[] {
    return this.latestHealth;
  }

  /** The runner's process id while it lives (the tests check it is gone after Stop). */
  get pid(): number | undefined {
    return this.runner?.pid;
  }

  get runnerExited(): Promise<unknown> {
    return this.runner?.exited ?? Promise.resolve();
  }

  /**
   * What the step the runner holds in has computed so far, while the trace does not hold that
   * step yet (it is written when the step completes): step 0, phase by phase, shows its numbers.
   */
  get heldRecord(): StepRecord | undefined {
    const at = this.phase;
    return at?.record && at.step > this.lastStep ? at.record : undefined;
  }

  /**
   * Where the editor shows values: the history cursor, else where the runner holds inside a step
   * it has not finished, else the newest recorded step's last phase.
   */
  get cursor(): Cursor | undefined {
    if (this.historyCursor) return this.historyCursor;
    const held = this.heldCursor();
    if (held) return held;
    if (this.stepCount === 0) return undefined;
    return { step: this.lastStep, phaseIndex: this.stopCount() - 1 };
  }

  private heldCursor(): Cursor | undefined {
    const at = this.phase;
    if (!at || !this.heldRecord) return undefined;
    const phaseIndex = phaseStops(this.meta.model.layers.length).findIndex((s) => s.phase === at.phase && (s.layer === at.layer || s.layer < 0));
    return phaseIndex >= 0 ? { step: at.step, phaseIndex } : undefined;
  }

  get inHistory(): boolean {
    return this.historyCursor !== undefined;
  }

  /** The record at the cursor (cached: the views ask for it often). */
  recordAtCursor(): StepRecord | undefined {
    const cursor = this.cursor;
    if (!cursor) return undefined;
    const held = this.heldRecord;
    if (held && held.step === cursor.step) return held;
    if (this.lastRecord?.step !== cursor.step) {
      try {
        this.lastRecord = this.reader.readStep(cursor.step);
      } catch {
        return undefined;
      }
    }
    return this.lastRecord;
  }

  /** Health of each layer at the cursor's step. */
  healthAtCursor(): LayerHealth[] {
    const held = this.heldRecord;
    if (held && this.cursor?.step === held.step) return healthOf(held, this.meta.model.layers);
    if (!this.historyCursor && this.latestHealth.length > 0) return this.latestHealth;
    const record = this.recordAtCursor();
    return record ? healthOf(record, this.meta.model.layers) : [];
  }

  private stopCount(): number {
    return phaseStops(this.meta.model.layers.length).length;
  }

  // -------------------------------------------------------------------------------------------
  // Control, like a debugger. In history the step commands walk the recording; at the live edge
  // they drive the runner.

  async control(action: ControlAction, toStep?: number): Promise<void> {
    if ((action === 'stepPhase' || action === 'stepBatch') && this.historyCursor) {
      this.stepForwardInHistory(action === 'stepPhase' ? 'phase' : 'step');
      return;
    }
    if (!this.runner || !this.live) {
      if (action === 'stepPhase' || action === 'stepBatch') this.stepForwardInHistory(action === 'stepPhase' ? 'phase' : 'step');
      else if (action === 'runTo' && toStep !== undefined) this.moveCursor({ step: toStep, phaseIndex: this.stopCount() - 1 });
      return;
    }
    if (action === 'continue' || action === 'runTo') this.setHistoryCursor(undefined);
    await this.runner.control(action, toStep);
  }

  /** One phase back through the recorded steps (and the phases the held step has run). */
  stepBack(): boolean {
    const from = this.cursor;
    if (!from) return false;
    const first = this.stepCount > 0 ? this.reader.entry(0).step : from.step;
    if (from.phaseIndex > 0) this.setHistoryCursor({ step: from.step, phaseIndex: from.phaseIndex - 1 });
    else if (from.step > first) this.setHistoryCursor({ step: from.step - 1, phaseIndex: this.stopCount() - 1 });
    else return false;
    return true;
  }

  /** Jumps the editor's views to a recorded step, or into the held step up to its phase (clamped). */
  moveCursor(cursor: Cursor): void {
    const held = this.heldCursor();
    if (this.stepCount === 0 && !held) return;
    const first = this.stepCount > 0 ? this.reader.entry(0).step : (held?.step ?? 0);
    const edge = held ?? { step: this.lastStep, phaseIndex: this.stopCount() - 1 };
    const step = Math.min(Math.max(cursor.step, first), edge.step);
    const phaseIndex = Math.min(Math.max(cursor.phaseIndex, 0), step === edge.step ? edge.phaseIndex : this.stopCount() - 1);
    const atEdge = step === edge.step && phaseIndex === edge.phaseIndex;
    this.setHistoryCursor(atEdge && this.live ? undefined : { step, phaseIndex });
  }

  private stepForwardInHistory(unit: 'phase' | 'step'): void {
    const from = this.cursor;
    if (!from) return;
    const last = this.stopCount() - 1;
    const next: Cursor =
      unit === 'phase'
        ? from.phaseIndex < last
          ? { step: from.step, phaseIndex: from.phaseIndex + 1 }
          : { step: from.step + 1, phaseIndex: 0 }
        : { step: from.step + 1, phaseIndex: from.phaseIndex };
    const held = this.heldCursor();
    if (held && next.step === held.step && next.phaseIndex <= held.phaseIndex) {
      // Inside the held step, up to where the runner is.
      this.moveCursor(next);
      return;
    }
    if (next.step > this.lastStep) {
      // Caught up with the recording: a live run follows the runner again.
      if (this.live) this.setHistoryCursor(undefined);
      return;
    }
    this.setHistoryCursor(next);
  }

  private setHistoryCursor(cursor: Cursor | undefined): void {
    const same =
      cursor?.step === this.historyCursor?.step && cursor?.phaseIndex === this.historyCursor?.phaseIndex;
    if (same) return;
    this.historyCursor = cursor;
    this.changes.fire({ kind: 'cursor' });
  }

  /** Asks the runner to finish and exit; kills it after the runner client's grace period. */
  async stop(): Promise<void> {
    if (!this.runner) return;
    if (!TERMINAL.has(this.runState)) this.setState('stopped');
    await this.stopRunner();
  }

  private stopping: Promise<void> | undefined;

  /** Stops the runner once, however many times it is asked (Stop, the run's end, dispose). */
  private stopRunner(): Promise<void> {
    this.stopping ??= this.runner?.stop() ?? Promise.resolve();
    return this.stopping;
  }

  override dispose(): void {
    if (this.isDisposed) return;
    this.runner?.dispose();
    super.dispose();
    try {
      this.reader.close();
    } catch {
      // already closed
    }
  }

  // -------------------------------------------------------------------------------------------
  // What the runner says (validated by the runner client before it reaches here).

  private onRunnerMessage(m: FromRunner): void {
    // Any word from the runner is progress: a stall is over.
    if (this.stallNotice && m.type !== 'log') {
      this.stallNotice = undefined;
      this.changes.fire({ kind: 'stall' });
    }
    switch (m.type) {
      case 'stepDone': {
        const before = this.stepCount;
        this.reader.refresh();
        const entries: StepIndexEntry[] = [];
        for (let i = before; i < this.stepCount; i++) entries.push(this.reader.entry(i));
        this.latestHealth = m.health;
        // The capture worker reports a step after the runner may already hold in the next one:
        // only the held step's own completion ends the hold.
        if (this.phase && this.phase.step <= m.entry.step) this.phase = undefined;
        this.changes.fire({ kind: 'progress', entries });
        break;
      }
      case 'state':
        this.setState(m.state);
        break;
      case 'atPhase':
        this.phase = m;
        this.runState = 'paused';
        this.changes.fire({ kind: 'atPhase' });
        break;
      case 'failed':
        this.runError = m.error;
        this.setState('failed');
        break;
      default:
        break;
    }
  }

  private setState(state: RunState): void {
    if (state === this.runState) return;
    const wasTerminal = TERMINAL.has(this.runState);
    this.runState = state;
    if (state !== 'paused') this.phase = undefined;
    if (TERMINAL.has(state)) {
      this.reader.refresh();
      // The run is over: its process has nothing more to do.
      if (!wasTerminal) void this.stopRunner();
    }
    this.changes.fire({ kind: 'state' });
  }

  private onRunnerExited(): void {
    if (this.isDisposed) return;
    if (!TERMINAL.has(this.runState)) {
      this.runError ??= { kind: 'runner-crashed', message: 'The runner process exited before the run ended.' };
      this.setState('failed');
    } else {
      this.changes.fire({ kind: 'state' });
    }
  }
}
