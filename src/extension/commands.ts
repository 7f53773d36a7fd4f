// The palette's commands (category "Gradient Lens"): start a run of a file or a lesson, reopen a
// recorded one, and drive the active run like a debugger.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { RunnerError } from '../host/runnerClient';
import type { ControlAction } from '../shared/protocol';
import type { RunError } from '../shared/traceTypes';
import { openLesson, pickLesson } from './lessons';
import { RunSession } from './runSession';
import type { RunnerPort } from './runnerPort';
import type { SessionManager } from './sessions';
import { readSettings, runOverrides, runsFolder, type Settings } from './settings';
import { ensureTrusted } from './trust';
import { runFolderName } from '../trace/runFolder';

export interface CommandDeps {
  context: vscode.ExtensionContext;
  sessions: SessionManager;
  log: vscode.LogOutputChannel;
  /** A runner up and waiting (warm where one was kept); the user's code runs in its file's folder. */
  spawn(settings: Settings): Promise<RunnerPort>;
  /** A run could not start: show the error in Problems. */
  reportFailure(file: string, error: RunError): void;
}

export interface StartOptions {
  lesson?: string;
  startPaused?: boolean;
  /** Where the panel opens; beside the active editor by default. */
  panelColumn?: vscode.ViewColumn;
}

export class Commands {
  constructor(private readonly deps: CommandDeps) {}

  register(): vscode.Disposable[] {
    const c = (id: string, run: (...args: never[]) => unknown) => vscode.commands.registerCommand(`gradientLens.${id}`, run);
    return [
      c('traceFile', (uri?: vscode.Uri) => this.traceFile(uri)),
      c('runLesson', (id?: string) => this.runLesson(id)),
      c('openTrace', (dir?: vscode.Uri | string) => this.openTrace(dir)),
      c('pause', () => this.control('pause')),
      c('continue', () => this.control('continue')),
      c('stepPhase', () => this.control('stepPhase')),
      c('stepBatch', () => this.control('stepBatch')),
      c('stepBack', () => this.stepBack()),
      c('runToStep', (step?: number) => this.runToStep(step)),
      c('stop', () => this.stop()),
      c('showPanel', () => this.showPanel()),
      c('showLog', () => this.deps.log.show()),
    ];
  }

  /** Trace This File: the given file, else the active TypeScript editor's. Resolves with the session. */
  async traceFile(uri?: vscode.Uri, options: StartOptions = {}): Promise<RunSession | undefined> {
    const target = uri instanceof vscode.Uri ? uri : vscode.window.activeTextEditor?.document.uri;
    if (!target || target.scheme !== 'file' || !/\.[cm]?ts$/.test(target.fsPath)) {
      void vscode.window.showErrorMessage('Gradient Lens: open a TypeScript model file (one that exports defineTraining) to trace it.');
      return undefined;
    }
    if (!ensureTrusted('Trace This File')) return undefined;
    const open = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === target.fsPath);
    if (open?.isDirty) await open.save();
    return this.start(target, options);
  }

  async runLesson(id?: string): Promise<RunSession | undefined> {
    if (!ensureTrusted('Run Lesson')) return undefined;
    const extensionUri = this.deps.context.extensionUri;
    let lesson;
    try {
      lesson = await pickLesson(extensionUri, typeof id === 'string' ? id : undefined);
    } catch (e) {
      void vscode.window.showErrorMessage(`Gradient Lens: could not read the lessons: ${(e as Error).message}`);
      return undefined;
    }
    if (!lesson) return undefined;
    const editor = await openLesson(extensionUri, lesson);
    // A lesson is stepped through from its very first phase; its panel goes over the narrative,
    // in the column right of the code (the narrative stays one tab away).
    const panelColumn = ((editor.viewColumn ?? vscode.ViewColumn.One) + 1) as vscode.ViewColumn;
    const session = await this.start(editor.document.uri, { lesson: lesson.id, startPaused: true, panelColumn });
    // Code and panel side by side: the code gets the wider half, so a layer's line and the
    // values shown after it while stepping fit (split evenly, a 75-character line is cut off).
    if (session && vscode.window.tabGroups.all.length === 2) {
      await vscode.commands.executeCommand('vscode.setEditorLayout', { orientation: 0, groups: [{ size: 0.6 }, { size: 0.4 }] });
    }
    return session;
  }

  async openTrace(dir?: vscode.Uri | string): Promise<RunSession | undefined> {
    let folder = typeof dir === 'string' ? dir : dir?.fsPath;
    if (!folder) {
      const active = vscode.window.activeTextEditor?.document.uri;
      const base = active ?? vscode.workspace.workspaceFolders?.[0]?.uri;
      const defaultUri = base ? vscode.Uri.file(runsFolder(base, readSettings(base), this.deps.context.globalStorageUri)) : undefined;
      const picked = await vscode.window.showOpenDialog({
        canSelectFolders: true,
        canSelectFiles: false,
        canSelectMany: false,
        defaultUri: defaultUri && fs.existsSync(defaultUri.fsPath) ? defaultUri : undefined,
        openLabel: 'Open Trace',
        title: 'Gradient Lens: open a recorded run (a folder with meta.json)',
      });
      folder = picked?.[0]?.fsPath;
    }
    if (!folder) return undefined;
    let session: RunSession;
    try {
      session = RunSession.open(folder);
    } catch (e) {
      void vscode.window.showErrorMessage(`Gradient Lens: ${(e as Error).message}`);
      return undefined;
    }
    this.deps.sessions.add(session);
    this.deps.sessions.showPanel(session);
    return session;
  }

  private async start(file: vscode.Uri, options: StartOptions): Promise<RunSession | undefined> {
    const { sessions, log } = this.deps;
    const settings = readSettings(file);
    const outDir = path.join(runsFolder(file, settings, this.deps.context.globalStorageUri), runFolderName(file.fsPath));
    const name = path.basename(file.fsPath);
    return vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Gradient Lens: ${name}`, cancellable: true },
      async (progress, token) => {
        let runner: RunnerPort | undefined;
        const cancelled = token.onCancellationRequested(() => runner?.dispose());
        try {
          progress.report({ message: 'starting the runner (loading TensorFlow.js)…' });
          runner = await this.deps.spawn(settings);
          if (token.isCancellationRequested) throw new vscode.CancellationError();
          progress.report({ message: 'building the model…' });
          log.info(`run of ${file.fsPath} → ${outDir}`);
          const session = await RunSession.start(runner, {
            file: file.fsPath,
            outDir,
            overrides: runOverrides(settings),
            startPaused: options.startPaused ?? settings.startPaused,
            lesson: options.lesson,
            typeCheck: settings.typeCheck,
          });
          if (token.isCancellationRequested) {
            session.dispose();
            throw new vscode.CancellationError();
          }
          sessions.add(session);
          sessions.showPanel(session, undefined, options.panelColumn);
          return session;
        } catch (e) {
          runner?.dispose();
          if (e instanceof vscode.CancellationError || token.isCancellationRequested) {
            log.info(`run of ${name} cancelled`);
            return undefined;
          }
          const error: RunError = e instanceof RunnerError ? e.runError : { kind: 'internal', message: (e as Error).message };
          log.error(`run of ${name} failed to start: ${error.message}`);
          this.deps.reportFailure(file.fsPath, error);
          const where = error.location ? ` (${path.basename(error.location.file)}:${error.location.line})` : '';
          void vscode.window.showErrorMessage(`Gradient Lens: ${name} did not start: ${error.message}${where}`, 'Show Log').then((c) => {
            if (c) log.show();
          });
          return undefined;
        } finally {
          cancelled.dispose();
        }
      },
    );
  }

  private activeOrTell(): RunSession | undefined {
    const s = this.deps.sessions.active;
    if (!s) void vscode.window.showInformationMessage('Gradient Lens: no run. Start one with "Trace This File" or "Run Lesson…".');
    return s;
  }

  private async control(action: ControlAction, toStep?: number): Promise<void> {
    const s = this.activeOrTell();
    if (!s) return;
    try {
      await s.control(action, toStep);
    } catch (e) {
      this.deps.log.error(`${action}: ${(e as Error).message}`);
      void vscode.window.showErrorMessage(`Gradient Lens: ${action} failed: ${(e as Error).message}`);
    }
  }

  private stepBack(): void {
    const s = this.activeOrTell();
    if (s && !s.stepBack()) void vscode.window.setStatusBarMessage('Gradient Lens: at the first recorded phase', 2000);
  }

  private async runToStep(step?: number): Promise<void> {
    const s = this.activeOrTell();
    if (!s) return;
    let target = typeof step === 'number' ? step : undefined;
    if (target === undefined) {
      const total = s.meta.config.steps;
      const answer = await vscode.window.showInputBox({
        title: 'Gradient Lens: Run to Step',
        prompt: `Run (or go back) to this step: 0–${total - 1}`,
        validateInput: (v) => (/^\d+$/.test(v.trim()) && Number(v) < total ? undefined : `A step number from 0 to ${total - 1}`),
      });
      if (answer === undefined) return;
      target = Number(answer.trim());
    }
    if (target <= s.lastStep || !s.live) s.moveCursor({ step: target, phaseIndex: 0 });
    else await this.control('runTo', target);
  }

  private async stop(): Promise<void> {
    const s = this.activeOrTell();
    if (!s) return;
    await s.stop();
  }

  private showPanel(): void {
    const s = this.activeOrTell();
    if (s) this.deps.sessions.showPanel(s);
  }
}
