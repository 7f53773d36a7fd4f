// After a rerun of a file, the layer lines whose numbers changed most against the file's
// previous run are marked ("Δ vs previous run: ∂L/∂W ‖·‖ 38% (step 2)"), so the effect of an
// edit shows where the edit was made; the hover of every compared layer says its change. The
// comparison is the trace's run diff, computed once, when the rerun ends, in slices that leave the
// extension host free.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { otherRunsOfFile } from '../trace/runCatalog';
import { diffRunsInSlices } from '../trace/runDiff';
import { changeText, layerChanges, layersChangedMost, type LayerChange } from '../trace/layerChanges';
import { TraceReader } from '../trace/traceReader';
import { Disposable } from './disposable';
import { layerAtLine } from './modelInfoCache';
import type { RunSession } from './runSession';
import type { SessionManager } from './sessions';

/** What a finished rerun found against the previous run of its file. */
export interface RerunChanges {
  runDir: string;
  baselineDir: string;
  sharedSteps: number;
  /** The marked layers, largest change first. */
  marked: LayerChange[];
  /** Every compared layer's change, by layer index (for the hover). */
  byLayer: Map<number, LayerChange>;
}

const ENDED = new Set(['finished', 'stopped']);

/**
 * The marks compare at most this many steps: they run by themselves after every rerun, in the
 * extension host (two lesson 1 runs of 2,000 steps took 2.6 s to compare, ≈ 1.3 ms a step).
 */
const MARK_STEPS = 500;

/** The previous run of `session`'s file in the same runs folder (recorded before it), if any. */
export function previousRunOf(session: RunSession): string | undefined {
  const created = Date.parse(session.meta.createdAt);
  return otherRunsOfFile(path.dirname(session.runDir), session.file, session.runDir).find((r) => Date.parse(r.meta.createdAt) <= created)?.dir;
}

export class ChangeMarks extends Disposable {
  private readonly results = new Map<string, RerunChanges | undefined>();
  private readonly decoration = this.register(
    vscode.window.createTextEditorDecorationType({
      after: { margin: '0 0 0 2em', color: new vscode.ThemeColor('charts.orange') },
      overviewRulerColor: new vscode.ThemeColor('charts.orange'),
      overviewRulerLane: vscode.OverviewRulerLane.Right,
      rangeBehavior: vscode.DecorationRangeBehavior.ClosedOpen,
    }),
  );

  constructor(
    private readonly sessions: SessionManager,
    private readonly log: vscode.LogOutputChannel,
  ) {
    super();
    this.register(sessions.onDidChangeSession((s) => this.onSession(s)));
    this.register(sessions.onDidChangeActive(() => this.render()));
    this.register(sessions.onDidEnd(() => this.render()));
    this.register(vscode.window.onDidChangeVisibleTextEditors(() => this.render()));
    for (const s of sessions.sessions) this.onSession(s);
  }

  /** The changes the newest run of `file` found against its previous run (undefined: none, or not a rerun). */
  changesFor(file: string): RerunChanges | undefined {
    const session = this.sessions.sessionsFor(file)[0];
    return session ? this.results.get(session.runDir) : undefined;
  }

  /** What the editor shows for `file`: the marked lines and their text (for the tests too). */
  decorationsFor(document: vscode.TextDocument): vscode.DecorationOptions[] {
    const file = document.uri.fsPath;
    const session = this.sessions.sessionsFor(file)[0];
    const changes = session ? this.results.get(session.runDir) : undefined;
    if (!session || !changes) return [];
    const out: vscode.DecorationOptions[] = [];
    for (const c of changes.marked) {
      const loc = session.meta.model.layers[c.layer]?.location;
      if (!loc || loc.line - 1 >= document.lineCount || layerAtLine(session.meta.model.layers, file, loc.line - 1)?.index !== c.layer) continue;
      const end = document.lineAt(loc.line - 1).range.end;
      const hover = new vscode.MarkdownString(`Gradient Lens: compared with the previous run of this file (${changes.sharedSteps} shared steps), this layer's numbers changed most here.`);
      out.push({ range: new vscode.Range(end, end), hoverMessage: hover, renderOptions: { after: { contentText: changeText(c) } } });
    }
    return out;
  }

  private onSession(session: RunSession): void {
    if (!ENDED.has(session.state) || this.results.has(session.runDir)) return;
    // Claimed at once (no marks yet), so the session's later events start no second comparison.
    this.results.set(session.runDir, undefined);
    void this.compute(session).then((changes) => {
      if (this.isDisposed) return;
      this.results.set(session.runDir, changes);
      this.render();
    });
  }

  private async compute(session: RunSession): Promise<RerunChanges | undefined> {
    const baselineDir = previousRunOf(session);
    if (!baselineDir) return undefined;
    let baseline: TraceReader | undefined;
    try {
      const t0 = performance.now();
      baseline = TraceReader.open(baselineDir);
      const diff = await diffRunsInSlices(baseline, session.reader, { maxSteps: MARK_STEPS });
      const all = layerChanges(diff);
      const marked = layersChangedMost(diff);
      this.log.info(`changes against the previous run ${baselineDir} (${diff.sharedSteps} steps, ${(performance.now() - t0).toFixed(0)} ms): ${marked.map((c) => `${c.layerName} ${changeText(c)}`).join('; ') || 'none'}`);
      return { runDir: session.runDir, baselineDir, sharedSteps: diff.sharedSteps, marked, byLayer: new Map(all.map((c) => [c.layer, c])) };
    } catch (e) {
      this.log.warn(`no comparison with the previous run ${baselineDir}: ${(e as Error).message}`);
      return undefined;
    } finally {
      baseline?.close();
    }
  }

  private render(): void {
    if (this.isDisposed) return;
    for (const editor of vscode.window.visibleTextEditors) editor.setDecorations(this.decoration, this.decorationsFor(editor.document));
  }
}
