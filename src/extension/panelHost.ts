// The host side of the step-through panel: one webview panel showing one run session. Speaks
// the protocol of src/shared/protocol.ts: on `ready` it sends `init`; it answers `requestStep`
// and `requestHistory` from the trace, forwards `control` to the session, and streams
// `progress` while the run is live. Messages from the webview are checked before use. While the
// panel compares its run with a baseline ("Compare with…"), it holds the baseline's trace open,
// answers `requestBaselineStep` from it and recomputes the diff when the user sets a tolerance,
// and, while its run is live, as new steps arrive (at most every COMPARE_REFRESH_MS).
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Envelope, FromWebview, ToWebview } from '../shared/protocol';
import { ProtocolViolation, parseWebviewMessage } from '../shared/messageValidators';
import type { StepIndexEntry } from '../shared/traceTypes';
import { PanelComparison } from '../trace/compareMessage';
import type { SavedComparisonCheck } from './savedComparison';
import type { RunDiff } from '../trace/runDiff';
import { TraceReader } from '../trace/traceReader';
import { Disposable } from './disposable';
import { panelHtml } from './panelHtml';
import { Throttle } from './throttle';
import type { RunSession } from './runSession';

export const PANEL_VIEW_TYPE = 'gradientLens.panel';

/** How often at most a live run's progress is posted (coalescing the steps in between). */
const PROGRESS_INTERVAL_MS = 100;
const MAX_HISTORY_COLUMNS = 2000;
/** How often at most a live run's comparison is brought up to date as its steps arrive (each refresh reads only the steps recorded since). */
export const COMPARE_REFRESH_MS = 2000;

export interface PanelActions {
  /** The user picked a layer in the panel: reveal its line. */
  revealLayer(session: RunSession, layer: number): void;
  /** Stop from the panel's button. */
  stop(session: RunSession): void;
  /** The compare view's "Full report": the comparison as a document. */
  compareReport(session: RunSession, baseline: TraceReader, diff: RunDiff): void;
}

export function panelOptions(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return {
    enableScripts: true,
    // The panel keeps its position with setState and refetches on `ready`: no hidden context kept.
    retainContextWhenHidden: false,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')],
  };
}

export function panelTitle(session: RunSession): string {
  return `Gradient Lens · ${path.basename(session.file)}`;
}

export class RunPanel extends Disposable {
  private nextId = 1;
  private ready = false;
  private pendingEntries: StepIndexEntry[] = [];
  /** Set while applying a position the panel sent, so it is not sent back to it. */
  private movingFromPanel = false;
  private progressTimer: ReturnType<typeof setTimeout> | undefined;
  private comparison: PanelComparison | undefined;
  /** Why the comparison saved before a reload was not restored: said to the panel once it is ready. */
  private restoreNotice: string | undefined;
  /** Recomputes the comparison as a live run records steps (only while comparing). */
  private readonly compareRefresh = new Throttle(COMPARE_REFRESH_MS, () => void this.postComparison());
  private readonly disposedEmitter = this.register(new vscode.EventEmitter<void>());
  readonly onDidDispose = this.disposedEmitter.event;

  constructor(
    readonly panel: vscode.WebviewPanel,
    readonly session: RunSession,
    extensionUri: vscode.Uri,
    private readonly actions: PanelActions,
    private readonly log: vscode.LogOutputChannel,
  ) {
    super();
    panel.title = panelTitle(session);
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'icon.png');
    panel.webview.options = panelOptions(extensionUri);
    panel.webview.html = panelHtml(panel.webview, extensionUri);
    this.register(panel.webview.onDidReceiveMessage((m: unknown) => this.receive(m)));
    this.register(panel.onDidDispose(() => this.dispose()));
    this.register(session.onDidChange((change) => this.onSessionChange(change)));
  }

  get visible(): boolean {
    return this.panel.visible;
  }

  reveal(): void {
    this.panel.reveal(undefined, true);
  }

  /** The editor's cursor is on a layer's line. */
  selectLayer(layer: number): void {
    if (this.ready) this.post({ type: 'selectLayer', layer });
  }

  /**
   * Shows this panel's run compared with the run in `baselineDir` (the compare view), replacing
   * any comparison it showed; resolves with the diff, computed in slices that leave the extension
   * host free (`progress`: shared steps compared so far). Rejects when the baseline does not open
   * or the panel closes first.
   */
  async compareWith(baselineDir: string, tolerance = 0, progress?: (compared: number) => void): Promise<RunDiff> {
    const baseline = TraceReader.open(baselineDir);
    const comparison = new PanelComparison(this.session.reader, baseline, tolerance);
    let diff: RunDiff;
    try {
      diff = await comparison.settle(progress);
      if (this.isDisposed) throw new Error('the panel was closed');
    } catch (e) {
      comparison.close();
      throw e;
    }
    this.comparison?.close();
    this.comparison = comparison;
    this.restoreNotice = undefined;
    if (this.ready) this.post(comparison.message());
    this.compareRefresh.ran();
    return diff;
  }

  /** Sends the comparison again, brought up to date with the steps the run recorded since. */
  private async postComparison(): Promise<void> {
    const comparison = this.comparison;
    if (this.isDisposed || !this.ready || !comparison) return;
    try {
      await comparison.settle();
    } catch (e) {
      if (comparison === this.comparison) this.log.warn(`panel: comparison not updated: ${(e as Error).message}`);
      return;
    }
    // Closed, or replaced by another comparison, while it was settling.
    if (comparison !== this.comparison || this.isDisposed || !this.ready) return;
    this.post(comparison.message());
  }

  /**
   * After a window reload: compares again with the baseline the panel's saved state named, once
   * checked (checkSavedComparison); a baseline that is gone or not trusted, or that no longer
   * opens, is said in the panel in a line instead.
   */
  async restoreComparison(check: SavedComparisonCheck): Promise<void> {
    let notice: string;
    if (check.kind === 'restore') {
      try {
        await this.compareWith(check.baselineDir, check.tolerance);
        return;
      } catch (e) {
        if (this.isDisposed) return;
        notice = `The comparison was not restored: the baseline run ${check.baselineDir} does not open (${(e as Error).message}).`;
        this.log.warn(`panel: ${notice}`);
      }
    } else {
      notice = check.notice;
      this.log.warn(`panel: comparison not restored: ${check.reason}`);
    }
    this.restoreNotice = notice;
    if (this.ready) this.post({ type: 'compareEnded', notice });
  }

  /** The run this panel compares with, if it compares. */
  get baselineDir(): string | undefined {
    return this.comparison?.baseline.dir;
  }

  override dispose(): void {
    this.close(true);
  }

  /**
   * Lets go of the webview panel without closing it, for another run to take over (a rerun of the
   * same file shows in the same tab): this view of the session ends, the tab stays.
   */
  release(): vscode.WebviewPanel {
    this.close(false);
    return this.panel;
  }

  private close(closeTab: boolean): void {
    if (this.isDisposed) return;
    if (this.progressTimer) clearTimeout(this.progressTimer);
    this.compareRefresh.cancel();
    this.comparison?.close();
    this.comparison = undefined;
    this.disposedEmitter.fire();
    super.dispose();
    if (closeTab) this.panel.dispose();
  }

  private post(body: ToWebview, inReplyTo?: number): void {
    const envelope: Envelope<ToWebview> = { id: this.nextId++, body, ...(inReplyTo !== undefined ? { inReplyTo } : {}) };
    void this.panel.webview.postMessage(envelope);
  }

  private sendInit(): void {
    const s = this.session;
    this.pendingEntries = [];
    this.post({
      type: 'init',
      meta: s.meta,
      curve: s.reader.curve(),
      stepCount: s.stepCount,
      state: s.state,
      error: s.error,
      live: s.live,
      runDir: s.runDir,
      fullTensorSteps: s.reader.fullTensorSteps,
    });
    // InitRun has no place for where a held run is: say it right after.
    if (s.atPhase) this.flushProgress();
  }

  private onSessionChange(change: Parameters<Parameters<RunSession['onDidChange']>[0]>[0]): void {
    if (!this.ready) return;
    if (change.kind === 'progress') this.pendingEntries.push(...change.entries);
    // A live run compared with a baseline: the comparison follows its new steps (and its end), throttled.
    if (this.comparison && (change.kind === 'progress' || change.kind === 'state')) this.compareRefresh.request();
    if (change.kind === 'cursor') {
      // The editor stepped through history: the panel shows the same position (not echoed back
      // when the move came from the panel itself).
      const cursor = this.session.inHistory ? this.session.cursor : undefined;
      if (cursor && !this.movingFromPanel) this.post({ type: 'goTo', step: cursor.step, phaseIndex: cursor.phaseIndex });
      return;
    }
    // State changes go out at once; step progress at most every PROGRESS_INTERVAL_MS.
    if (change.kind === 'progress') {
      this.progressTimer ??= setTimeout(() => this.flushProgress(), PROGRESS_INTERVAL_MS);
    } else {
      this.flushProgress();
    }
  }

  private flushProgress(): void {
    if (this.progressTimer) clearTimeout(this.progressTimer);
    this.progressTimer = undefined;
    if (this.isDisposed) return;
    const s = this.session;
    const entries = this.pendingEntries;
    this.pendingEntries = [];
    this.post({ type: 'progress', entries, stepCount: s.stepCount, state: s.state, atPhase: s.atPhase, error: s.error, fullTensorSteps: s.reader.fullTensorSteps });
  }

  private receive(raw: unknown): void {
    const envelope = asEnvelope(raw);
    if (!envelope) {
      this.log.warn('panel: ignored a malformed message');
      return;
    }
    const { id, body } = envelope;
    const t0 = performance.now();
    try {
      switch (body.type) {
        case 'ready':
          this.ready = true;
          this.sendInit();
          if (this.comparison) this.post(this.comparison.message());
          else if (this.restoreNotice) this.post({ type: 'compareEnded', notice: this.restoreNotice });
          break;
        case 'requestStep':
          this.post({ type: 'stepData', record: this.session.reader.readStep(body.step) }, id);
          break;
        case 'requestHistory': {
          const columns = Math.min(Math.max(1, Math.floor(body.maxColumns)), MAX_HISTORY_COLUMNS);
          this.post(this.session.reader.history(body.layer, body.role, body.param, columns), id);
          break;
        }
        case 'layerSelected':
          this.actions.revealLayer(this.session, body.layer);
          break;
        case 'position':
          this.movingFromPanel = true;
          try {
            this.session.moveCursor({ step: body.step, phaseIndex: body.phaseIndex });
          } finally {
            this.movingFromPanel = false;
          }
          break;
        case 'requestBaselineStep':
          this.post(this.comparison?.baselineStep(body.step) ?? { type: 'baselineStepData', step: body.step }, id);
          break;
        case 'compareTolerance':
          if (!this.comparison) break;
          this.comparison.setTolerance(body.tolerance);
          // From step 0 again, in slices; a refresh asked for meanwhile waits its interval.
          this.compareRefresh.ran();
          void this.postComparison();
          break;
        case 'compareAction':
          if (!this.comparison) break;
          if (body.action === 'report') {
            this.actions.compareReport(this.session, this.comparison.baseline, this.comparison.diff);
          } else {
            this.compareRefresh.cancel();
            this.comparison.close();
            this.comparison = undefined;
            this.post({ type: 'compareEnded' });
          }
          break;
        case 'control':
          if (body.action === 'stop') this.actions.stop(this.session);
          else void this.session.control(body.action, body.toStep).catch((e: Error) => this.log.error(`control ${body.action}: ${e.message}`));
          break;
      }
    } catch (e) {
      // The panel's request times out on its side; the reason goes to the log.
      this.log.error(`panel: ${body.type} failed: ${(e as Error).message}`);
    }
    const ms = performance.now() - t0;
    if (ms > 50) this.log.warn(`panel: ${body.type} took ${ms.toFixed(0)} ms`);
  }
}

/** Checks a message from the webview against FromWebview (src/shared/messageValidators.ts); undefined when it does not fit. */
export function asEnvelope(raw: unknown): Envelope<FromWebview> | undefined {
  try {
    return parseWebviewMessage(raw);
  } catch (e) {
    if (e instanceof ProtocolViolation) return undefined;
    throw e;
  }
}
