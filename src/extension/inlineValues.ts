// Inline values while stepping, like a debugger's: after each layer's line, its output shape,
// mean and fraction of dead units at the current step; the line of the phase the run is at is
// highlighted. Off with `gradientLens.inlineValues.enabled`.
import * as vscode from 'vscode';
import { phaseStops } from '../shared/phases';
import { Disposable } from './disposable';
import { inlineText } from './layerFormat';
import { layerAtLine } from './modelInfoCache';
import type { RunSession } from './runSession';
import type { SessionManager } from './sessions';
import { readSettings } from './settings';

const REFRESH_MS = 150;

export class InlineValues extends Disposable {
  private readonly values = this.register(
    vscode.window.createTextEditorDecorationType({
      after: { margin: '0 0 0 2em', color: new vscode.ThemeColor('editorCodeLens.foreground'), fontStyle: 'italic' },
      rangeBehavior: vscode.DecorationRangeBehavior.ClosedOpen,
    }),
  );
  private readonly current = this.register(
    vscode.window.createTextEditorDecorationType({
      isWholeLine: true,
      backgroundColor: new vscode.ThemeColor('editor.stackFrameHighlightBackground'),
      overviewRulerColor: new vscode.ThemeColor('editorOverviewRuler.infoForeground'),
      overviewRulerLane: vscode.OverviewRulerLane.Left,
    }),
  );
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly sessions: SessionManager) {
    super();
    this.register(sessions.onDidChangeSession(() => this.schedule()));
    this.register(sessions.onDidChangeActive(() => this.schedule()));
    this.register(sessions.onDidEnd(() => this.schedule()));
    this.register(vscode.window.onDidChangeVisibleTextEditors(() => this.schedule()));
    this.register(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('gradientLens.inlineValues')) this.schedule();
      }),
    );
  }

  /** What an editor of `session`'s file shows: the decorations, for the tests too. */
  static decorationsFor(session: RunSession, document: vscode.TextDocument): { values: vscode.DecorationOptions[]; current: vscode.Range[] } {
    const file = document.uri.fsPath;
    const record = session.recordAtCursor();
    const health = session.healthAtCursor();
    const values: vscode.DecorationOptions[] = [];
    for (let line = 0; line < document.lineCount; line++) {
      const layer = layerAtLine(session.meta.model.layers, file, line);
      if (!layer) continue;
      const end = document.lineAt(line).range.end;
      values.push({
        range: new vscode.Range(end, end),
        renderOptions: { after: { contentText: inlineText(layer, record, health[layer.index]) } },
      });
    }
    // The phase the run is at: the runner's position while live and paused, else the cursor's.
    const stops = phaseStops(session.meta.model.layers.length);
    const atLayer = session.atPhase && !session.inHistory ? session.atPhase.layer : stops[session.cursor?.phaseIndex ?? -1]?.layer;
    const current: vscode.Range[] = [];
    const loc = atLayer !== undefined && atLayer >= 0 ? session.meta.model.layers[atLayer]?.location : undefined;
    if (loc && loc.line - 1 < document.lineCount && (session.atPhase || session.inHistory)) {
      current.push(document.lineAt(loc.line - 1).range);
    }
    return { values, current };
  }

  private schedule(): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.render();
    }, REFRESH_MS);
  }

  private render(): void {
    if (this.isDisposed) return;
    for (const editor of vscode.window.visibleTextEditors) {
      const enabled = readSettings(editor.document.uri).inlineValues;
      const session = enabled ? this.sessions.sessionsFor(editor.document.uri.fsPath)[0] : undefined;
      // Shown while stepping through a run, like a debugger's: held, or walking its recording.
      // Once a run ends they go (the panel still has it all), unless the user walks back into it.
      const show = session !== undefined && ((session.live && session.state === 'paused') || session.inHistory);
      if (!session || !show) {
        editor.setDecorations(this.values, []);
        editor.setDecorations(this.current, []);
        continue;
      }
      const { values, current } = InlineValues.decorationsFor(session, editor.document);
      editor.setDecorations(this.values, values);
      editor.setDecorations(this.current, current);
    }
  }

  override dispose(): void {
    clearTimeout(this.timer);
    super.dispose();
  }
}
