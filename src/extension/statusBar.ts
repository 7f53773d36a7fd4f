// The status bar item of the active run: state, step, loss and backend; click shows the panel.
import * as vscode from 'vscode';
import { Disposable } from './disposable';
import { editorNumber } from './layerFormat';
import type { SessionManager } from './sessions';
import { escapeMarkdown } from './traceTrust';

const ICON: Record<string, string> = {
  loading: '$(loading~spin)',
  running: '$(pulse)',
  paused: '$(debug-pause)',
  finished: '$(pass)',
  stopped: '$(debug-stop)',
  failed: '$(error)',
};

export class RunStatusBar extends Disposable {
  private readonly item = this.register(vscode.window.createStatusBarItem('gradientLens.run', vscode.StatusBarAlignment.Left, 50));
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Sessions whose current stall has been announced. */
  private readonly warned = new WeakSet<NonNullable<SessionManager['active']>>();

  constructor(private readonly sessions: SessionManager) {
    super();
    this.item.name = 'Gradient Lens run';
    this.item.command = 'gradientLens.showPanel';
    this.register(sessions.onDidChangeSession(() => this.schedule()));
    this.register(sessions.onDidChangeActive(() => this.update()));
    this.update();
  }

  /** The item's text (for the tests). */
  get text(): string {
    return this.item.text;
  }

  private schedule(): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.update();
    }, 100);
  }

  private update(): void {
    const s = this.sessions.active;
    if (!s) {
      this.item.hide();
      return;
    }
    const cursor = s.cursor;
    const step = s.atPhase && !s.inHistory ? s.atPhase.step : cursor?.step;
    const parts = [`${ICON[s.state] ?? ''} ${s.state}`];
    const stall = s.stall;
    if (stall) parts.push(`$(watch) no progress for ${Math.round(stall.silentMs / 1000)} s`);
    if (step !== undefined) parts.push(`step ${step}${s.inHistory ? ' (history)' : ''}`);
    const loss = s.inHistory ? s.recordAtCursor()?.loss : s.lastLoss;
    if (loss !== undefined) parts.push(`loss ${editorNumber(loss)}`);
    parts.push(s.meta.backend.name);
    this.item.text = parts.join(' · ');
    // The model's name and the backend's reason come from meta.json (a trace from anywhere): escaped.
    const { model, backend } = s.meta;
    this.item.tooltip = new vscode.MarkdownString(
      `**Gradient Lens** · ${escapeMarkdown(model.name)}\n\n${stall ? `${escapeMarkdown(stall.message)}. **Gradient Lens: Stop** (Shift+F5) ends it.\n\n` : ''}${s.stepCount} of ${s.meta.config.steps} steps recorded · backend ${escapeMarkdown(backend.name)}: ${escapeMarkdown(backend.reason)}\n\nClick to show the panel.`,
    );
    this.item.backgroundColor =
      s.state === 'failed' ? new vscode.ThemeColor('statusBarItem.errorBackground') : stall ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    this.warnOnce(s);
    this.item.show();
  }

  /** The first notice of a stall pops up once, with a way out; later ones only update the item. */
  private warnOnce(s: NonNullable<SessionManager['active']>): void {
    if (!s.stall) {
      this.warned.delete(s);
      return;
    }
    if (this.warned.has(s)) return;
    this.warned.add(s);
    void vscode.window.showWarningMessage(`Gradient Lens: ${s.stall.message}.`, 'Stop').then((choice) => {
      if (choice === 'Stop') void s.stop();
    });
  }

  override dispose(): void {
    clearTimeout(this.timer);
    super.dispose();
  }
}
