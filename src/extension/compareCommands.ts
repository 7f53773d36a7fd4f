// "Export Trace…" and "Compare with…": a recorded run as TensorBoard, CSV or JSON, and where
// this run first differs from another run (by default the previous run of its file), shown in
// the run's panel (its compare view; the full table as a read-only Markdown report on request).
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { exportRun } from '../trace/export/exportRun';
import type { ExportFormat } from '../trace/export/exportRun';
import { otherRunsOfFile } from '../trace/runCatalog';
import type { RunDiff } from '../trace/runDiff';
import { formatRunDiff, runDiffMarkdown } from '../trace/runDiffReport';
import type { ReportedRun } from '../trace/runDiffReport';
import { TraceReader } from '../trace/traceReader';
import type { RunPanel } from './panelHost';
import type { RunSession } from './runSession';
import type { TrustedBaselines } from './savedComparison';
import type { SessionManager } from './sessions';
import { readSettings, runsFolder } from './settings';

export interface CompareDeps {
  context: vscode.ExtensionContext;
  sessions: SessionManager;
  log: vscode.LogOutputChannel;
}

/** The baselines the user chose in this workspace (newest first), trusted when a reload restores one. */
const CHOSEN_KEY = 'gradientLens.comparedBaselines';
const CHOSEN_KEPT = 50;

/** Reports live in memory under this scheme: a document VS Code opens read-only. */
export const REPORT_SCHEME = 'gradient-lens-compare';

const FORMATS: (vscode.QuickPickItem & { format: ExportFormat })[] = [
  { label: 'TensorBoard event file', description: 'events.out.tfevents.* in a folder, for tensorboard --logdir', format: 'tensorboard' },
  { label: 'CSV tables', description: 'steps.csv and layers.csv in a folder', format: 'csv' },
  { label: 'JSON', description: 'one file: the run, its steps and every tensor summary', format: 'json' },
];

type Target = vscode.Uri | string | undefined;
const asPath = (t: Target) => (typeof t === 'string' ? t : t?.fsPath);

export class CompareCommands {
  private readonly reports = new Map<string, string>();
  private reportCount = 0;

  constructor(private readonly deps: CompareDeps) {}

  register(): vscode.Disposable[] {
    return [
      vscode.workspace.registerTextDocumentContentProvider(REPORT_SCHEME, { provideTextDocumentContent: (uri) => this.reports.get(uri.toString()) ?? '' }),
      vscode.workspace.onDidCloseTextDocument((doc) => this.reports.delete(doc.uri.toString())),
      vscode.commands.registerCommand('gradientLens.exportTrace', (run?: Target, format?: ExportFormat, target?: Target) => this.exportTrace(run, format, target)),
      vscode.commands.registerCommand('gradientLens.compareWith', (run?: Target, other?: Target, tolerance?: number) => this.compareWith(run, other, tolerance)),
    ];
  }

  /** Where a reloaded panel's saved baseline may be: the runs folders of this run and of the workspace, the runs the user chose or opened. */
  trustedBaselines(session: RunSession): TrustedBaselines {
    const { globalStorageUri } = this.deps.context;
    const bases = [vscode.Uri.file(session.file), ...(vscode.workspace.workspaceFolders ?? []).map((f) => f.uri)];
    return {
      runsFolders: bases.map((b) => runsFolder(b, readSettings(b), globalStorageUri)),
      chosen: [...this.chosenBaselines(), ...this.deps.sessions.sessions.map((s) => s.runDir)],
    };
  }

  private chosenBaselines(): string[] {
    const v = this.deps.context.workspaceState.get<unknown>(CHOSEN_KEY);
    return Array.isArray(v) ? v.filter((d): d is string => typeof d === 'string') : [];
  }

  private rememberBaseline(dir: string): void {
    const resolved = path.resolve(dir);
    const kept = [resolved, ...this.chosenBaselines().filter((d) => d !== resolved)].slice(0, CHOSEN_KEPT);
    void this.deps.context.workspaceState.update(CHOSEN_KEY, kept);
  }

  /** Where runs of this window are recorded: beside the active editor's file or the first workspace folder. */
  private runsFolderFor(file?: string): string | undefined {
    const base = file ? vscode.Uri.file(file) : (vscode.window.activeTextEditor?.document.uri ?? vscode.workspace.workspaceFolders?.[0]?.uri);
    return base ? runsFolder(base, readSettings(base), this.deps.context.globalStorageUri) : undefined;
  }

  private async pickTraceFolder(title: string, openLabel: string): Promise<string | undefined> {
    const folder = this.runsFolderFor();
    const picked = await vscode.window.showOpenDialog({
      canSelectFolders: true,
      canSelectFiles: false,
      canSelectMany: false,
      defaultUri: folder && fs.existsSync(folder) ? vscode.Uri.file(folder) : undefined,
      openLabel,
      title,
    });
    return picked?.[0]?.fsPath;
  }

  /** The run a command acts on: the one given, else the active session's, else one the user picks. */
  private async thisRun(run: Target, title: string): Promise<string | undefined> {
    return asPath(run) ?? this.deps.sessions.active?.runDir ?? (await this.pickTraceFolder(title, 'Choose Run'));
  }

  private open(dir: string): TraceReader | undefined {
    try {
      // A run still recording: its last record may be half written, which is not damage.
      return TraceReader.open(dir, { live: this.deps.sessions.active?.runDir === dir && this.deps.sessions.active.live });
    } catch (e) {
      void vscode.window.showErrorMessage(`Gradient Lens: ${(e as Error).message}`);
      return undefined;
    }
  }

  /** Export Trace…: which run, which format, where; resolves with what was written. */
  async exportTrace(run?: Target, format?: ExportFormat, target?: Target): Promise<string | undefined> {
    const dir = await this.thisRun(run, 'Gradient Lens: the run to export');
    if (!dir) return undefined;
    const chosen = format ?? (await vscode.window.showQuickPick(FORMATS, { title: `Gradient Lens: export ${path.basename(dir)} as…` }))?.format;
    if (!chosen) return undefined;
    let where = asPath(target);
    if (!where) {
      const near = vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(path.dirname(dir));
      if (chosen === 'json') {
        where = (await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.joinPath(near, `${path.basename(dir)}.json`), filters: { JSON: ['json'] }, title: 'Gradient Lens: export to a JSON file' }))?.fsPath;
      } else {
        const picked = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, canSelectMany: false, defaultUri: near, openLabel: 'Export Here', title: `Gradient Lens: the folder for the ${chosen === 'csv' ? 'CSV tables' : 'event file'}` });
        where = picked?.[0]?.fsPath;
      }
    }
    if (!where) return undefined;
    const reader = this.open(dir);
    if (!reader) return undefined;
    try {
      const message = exportRun(reader, chosen, where);
      this.deps.log.info(`export: ${message}`);
      void vscode.window.showInformationMessage(`Gradient Lens: ${message}`);
      return message;
    } catch (e) {
      void vscode.window.showErrorMessage(`Gradient Lens: export failed: ${(e as Error).message}`);
      return undefined;
    } finally {
      reader.close();
    }
  }

  /** The run to compare with: the other runs of this file, newest first (the previous run is the default), or any run picked by hand. */
  private async pickOther(dir: string, file: string): Promise<string | undefined> {
    const folder = this.runsFolderFor(file);
    const others = folder ? otherRunsOfFile(folder, file, dir) : [];
    const browse = { label: '$(folder-opened) Another run…', description: 'any recorded run (a folder with meta.json)', dir: '' };
    const items = [
      ...others.map((r, i) => ({
        label: `${i === 0 ? '$(history) ' : ''}${new Date(r.meta.createdAt).toLocaleString()}`,
        description: `${i === 0 ? 'the previous run · ' : ''}${r.meta.backend.name} · seed ${r.meta.config.seed} · batch ${r.meta.config.batchSize}`,
        detail: r.dir,
        dir: r.dir,
      })),
      browse,
    ];
    const picked = await vscode.window.showQuickPick(items, {
      title: `Gradient Lens: compare ${path.basename(file)} (${path.basename(dir)}) with…`,
      placeHolder: others.length > 0 ? 'Other runs of this file, newest first' : 'No other run of this file is recorded yet',
    });
    if (!picked) return undefined;
    return picked.dir || (await this.pickTraceFolder('Gradient Lens: the run to compare with', 'Compare'));
  }

  /** The panel of the session showing `dir`; the run is opened (a recorded run, read only) when no session shows it. */
  private async panelFor(dir: string): Promise<RunPanel | undefined> {
    const resolved = path.resolve(dir);
    const session = this.deps.sessions.sessions.find((s) => path.resolve(s.runDir) === resolved);
    if (session) return this.deps.sessions.showPanel(session);
    const opened = await vscode.commands.executeCommand<RunSession | undefined>('gradientLens.openTrace', dir);
    return opened ? this.deps.sessions.panelsOf(opened)[0] : undefined;
  }

  /**
   * Compare with…: the chosen run is A (the baseline), this run is B. Opens the compare view in
   * this run's panel and resolves with the comparison (undefined when cancelled or a run does not
   * open).
   */
  async compareWith(run?: Target, other?: Target, tolerance = 0): Promise<RunDiff | undefined> {
    const dir = await this.thisRun(run, 'Gradient Lens: the run to compare');
    if (!dir) return undefined;
    const b = this.open(dir);
    if (!b) return undefined;
    const file = b.meta.file;
    b.close();
    const baseline = asPath(other) ?? (await this.pickOther(dir, file));
    if (!baseline) return undefined;
    try {
      const panel = await this.panelFor(dir);
      if (!panel) return undefined;
      const t0 = performance.now();
      // A long run's comparison takes seconds: said in the status bar while it runs.
      const diff = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Gradient Lens: comparing runs' }, (p) =>
        panel.compareWith(baseline, tolerance, (compared) => p.report({ message: `${compared.toLocaleString('en-US')} steps` })),
      );
      this.rememberBaseline(baseline);
      this.deps.log.info(`compare ${baseline} (A) with ${dir} (B), ${(performance.now() - t0).toFixed(0)} ms:\n${formatRunDiff(diff).join('\n')}`);
      panel.reveal();
      return diff;
    } catch (e) {
      void vscode.window.showErrorMessage(`Gradient Lens: compare failed: ${(e as Error).message}`);
      return undefined;
    }
  }

  /** The comparison as a read-only Markdown document (the compare view's "Full report"). */
  async openReport(a: ReportedRun, b: ReportedRun, diff: RunDiff): Promise<void> {
    const uri = vscode.Uri.from({ scheme: REPORT_SCHEME, path: `/compare-${++this.reportCount}-${path.basename(b.dir)}.md` });
    this.reports.set(uri.toString(), runDiffMarkdown(diff, a, b));
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.languages.setTextDocumentLanguage(doc, 'markdown');
    await vscode.window.showTextDocument(doc, { preview: false, viewColumn: vscode.ViewColumn.Active });
  }
}
