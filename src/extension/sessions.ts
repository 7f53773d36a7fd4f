// The run sessions of this window: which one is active (the one the commands, the status bar
// and the editor decorations follow), their panels, and the context keys the manifest's
// `when` clauses read. Closing a session's last panel ends the session and its runner.
import * as vscode from 'vscode';
import { Disposable, disposeAll } from './disposable';
import { PANEL_VIEW_TYPE, RunPanel, type PanelActions } from './panelHost';
import type { RunSession } from './runSession';

export class SessionManager extends Disposable {
  private readonly all = new Map<RunSession, { panels: Set<RunPanel>; subscriptions: vscode.Disposable[] }>();
  private activeSession: RunSession | undefined;
  private readonly activeEmitter = this.register(new vscode.EventEmitter<RunSession | undefined>());
  /** The active session changed (or was replaced). */
  readonly onDidChangeActive = this.activeEmitter.event;
  private readonly endEmitter = this.register(new vscode.EventEmitter<RunSession>());
  /** A session ended (its panels closed, its runner killed); fired after it left the list. */
  readonly onDidEnd = this.endEmitter.event;
  private readonly changeEmitter = this.register(new vscode.EventEmitter<RunSession>());
  /** Something changed in any session (progress, state, cursor). */
  readonly onDidChangeSession = this.changeEmitter.event;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly log: vscode.LogOutputChannel,
    private readonly actions: PanelActions,
  ) {
    super();
    void this.updateContext();
  }

  get active(): RunSession | undefined {
    return this.activeSession;
  }

  get sessions(): RunSession[] {
    return [...this.all.keys()];
  }

  /** Sessions of a model file (absolute path), the active one first. */
  sessionsFor(file: string): RunSession[] {
    const mine = this.sessions.filter((s) => s.file === file);
    return mine.sort((a, b) => (a === this.activeSession ? -1 : b === this.activeSession ? 1 : b.id - a.id));
  }

  panelsOf(session: RunSession): RunPanel[] {
    return [...(this.all.get(session)?.panels ?? [])];
  }

  add(session: RunSession): void {
    if (this.all.has(session)) return;
    const subscriptions = [
      session.onDidChange((change) => {
        if (change.kind === 'state' || change.kind === 'atPhase') void this.updateContext();
        this.changeEmitter.fire(session);
      }),
    ];
    this.all.set(session, { panels: new Set(), subscriptions });
    this.setActive(session);
  }

  setActive(session: RunSession | undefined): void {
    if (session === this.activeSession) return;
    this.activeSession = session;
    void this.updateContext();
    this.activeEmitter.fire(session);
  }

  /**
   * Opens a panel for `session` in `column` (default: beside the active editor), or adopts a
   * restored one, or reveals the one it has. A new run of a file takes over the tab of the file's
   * earlier run (that run ends), so rerunning does not pile up identical tabs.
   */
  showPanel(session: RunSession, restored?: vscode.WebviewPanel, column: vscode.ViewColumn = vscode.ViewColumn.Beside): RunPanel {
    const entry = this.all.get(session);
    if (!entry) throw new Error('showPanel: unknown session');
    if (!restored) {
      const existing = [...entry.panels][0];
      if (existing) {
        existing.reveal();
        return existing;
      }
    }
    const webviewPanel = restored ?? this.takeOverPanelOf(session) ?? vscode.window.createWebviewPanel(PANEL_VIEW_TYPE, 'Gradient Lens', { viewColumn: column, preserveFocus: true }, {});
    const panel = new RunPanel(webviewPanel, session, this.extensionUri, this.actions, this.log);
    entry.panels.add(panel);
    webviewPanel.onDidChangeViewState((e) => {
      if (e.webviewPanel.active) this.setActive(session);
    });
    panel.onDidDispose(() => {
      entry.panels.delete(panel);
      if (entry.panels.size === 0) this.end(session);
    });
    return panel;
  }

  /** The tab of an earlier run of `session`'s file, released from it (and that run ended). */
  private takeOverPanelOf(session: RunSession): vscode.WebviewPanel | undefined {
    const earlier = this.sessions.find((s) => s !== session && s.file === session.file && (this.all.get(s)?.panels.size ?? 0) > 0);
    const panel = earlier ? [...(this.all.get(earlier)?.panels ?? [])][0] : undefined;
    if (!earlier || !panel) return undefined;
    const webviewPanel = panel.release();
    // The earlier run is over for this window (its runner, if live, is stopped); any other panel
    // of it closes with it.
    this.end(earlier);
    webviewPanel.reveal(undefined, true);
    return webviewPanel;
  }

  /** Ends a session: its panels close, its runner is killed, it leaves the list. */
  end(session: RunSession): void {
    const entry = this.all.get(session);
    if (!entry) return;
    this.all.delete(session);
    this.log.info(`run ${session.meta.runId} closed${session.pid !== undefined ? `; runner ${session.pid} killed` : ''}`);
    disposeAll(entry.subscriptions);
    for (const panel of entry.panels) panel.dispose();
    session.dispose();
    if (this.activeSession === session) this.setActive(this.sessions[this.sessions.length - 1]);
    void this.updateContext();
    this.endEmitter.fire(session);
  }

  override dispose(): void {
    for (const session of this.sessions) this.end(session);
    super.dispose();
  }

  private async updateContext(): Promise<void> {
    const s = this.activeSession;
    await vscode.commands.executeCommand('setContext', 'gradientLens.hasRun', s !== undefined);
    await vscode.commands.executeCommand('setContext', 'gradientLens.runActive', s?.live ?? false);
    await vscode.commands.executeCommand('setContext', 'gradientLens.runState', s?.state ?? '');
  }
}
