// Model summaries for the hover and the CodeLens: the runner builds the file's model without
// training (shapes, parameter counts, the line each layer was built on). Loads run one at a
// time, each in a runner of its own, on open and on save (debounced), never while typing;
// results are cached per document version. Only in trusted workspaces, only for model files.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { SummaryReply } from '../shared/protocol';
import type { LayerInfo, RunError } from '../shared/traceTypes';
import { RunnerError } from '../host/runnerClient';
import { Disposable } from './disposable';
import type { RunnerPort } from './runnerPort';
import { readSettings } from './settings';

export interface ModelInfo {
  uri: vscode.Uri;
  /** The document version the file on disk had when it was loaded. */
  version: number;
  summary?: SummaryReply;
  error?: RunError;
}

const DEBOUNCE_MS = 300;

/** A TypeScript file that declares a training setup or builds a tfjs model. */
export function looksLikeModelFile(document: vscode.TextDocument): boolean {
  if (document.languageId !== 'typescript' || document.uri.scheme !== 'file') return false;
  return /\bdefineTraining\s*\(|\btf\.(sequential|model)\s*\(|\btappedModel\s*\(/.test(document.getText());
}

function samePath(a: string, b: string): boolean {
  return path.normalize(a) === path.normalize(b);
}

/**
 * Files opened because a trace pointed at them (a layer clicked in a reopened trace), not by the
 * user: building a model runs the file, and a trace from elsewhere must not make anything run.
 * A file leaves this set when the user saves it or closes it (reopening it is their own act).
 */
const openedFromTrace = new Set<string>();

/** Marks a file about to be opened from a trace: the model-info runner leaves it alone. */
export function holdFromModelInfo(uri: vscode.Uri): void {
  openedFromTrace.add(uri.toString());
}

/** The layer built on `line` (0-based) of `file`, per the model's recorded source locations. */
export function layerAtLine(layers: LayerInfo[], file: string, line: number): LayerInfo | undefined {
  return layers.find((l) => l.location && l.location.line === line + 1 && samePath(l.location.file, file));
}

export class ModelInfoCache extends Disposable {
  private readonly entries = new Map<string, { version: number; info: Promise<ModelInfo> }>();
  private readonly latest = new Map<string, ModelInfo>();
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private queue: Promise<unknown> = Promise.resolve();
  private readonly changed = this.register(new vscode.EventEmitter<ModelInfo>());
  /** A load finished (with a summary or an error). */
  readonly onDidChange = this.changed.event;

  constructor(
    /** A runner that has built nothing yet (WarmRunners.take). */
    private readonly spawn: () => Promise<RunnerPort>,
    private readonly log: vscode.LogOutputChannel,
  ) {
    super();
    this.register(vscode.workspace.onDidOpenTextDocument((d) => this.schedule(d)));
    this.register(
      vscode.workspace.onDidSaveTextDocument((d) => {
        // Saving is the user's own act on the file: from now on it is theirs to build.
        openedFromTrace.delete(d.uri.toString());
        this.schedule(d);
      }),
    );
    this.register(
      vscode.workspace.onDidCloseTextDocument((d) => {
        openedFromTrace.delete(d.uri.toString());
        this.forget(d.uri);
      }),
    );
    // Trust granted later: build the open model files now.
    this.register(vscode.workspace.onDidGrantWorkspaceTrust(() => vscode.workspace.textDocuments.forEach((d) => this.schedule(d))));
    for (const d of vscode.workspace.textDocuments) this.schedule(d);
  }

  enabledFor(document: vscode.TextDocument): boolean {
    if (openedFromTrace.has(document.uri.toString())) return false;
    return vscode.workspace.isTrusted && readSettings(document.uri).modelInfo && looksLikeModelFile(document);
  }

  /** The newest finished info for the document, whatever its version (never waits). */
  peek(uri: vscode.Uri): ModelInfo | undefined {
    return this.latest.get(uri.toString());
  }

  /**
   * The info for the document as saved: cached for its version, else loaded now. A dirty
   * document gets the last load (its lines may be off by the unsaved edits).
   */
  get(document: vscode.TextDocument): Promise<ModelInfo> | undefined {
    if (!this.enabledFor(document)) return undefined;
    const key = document.uri.toString();
    const cached = this.entries.get(key);
    if (cached && (cached.version === document.version || document.isDirty)) return cached.info;
    return this.load(document);
  }

  private schedule(document: vscode.TextDocument): void {
    if (!this.enabledFor(document)) return;
    const key = document.uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        if (!document.isClosed && !document.isDirty) void this.get(document);
      }, DEBOUNCE_MS),
    );
  }

  private forget(uri: vscode.Uri): void {
    const key = uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    this.entries.delete(key);
    this.latest.delete(key);
  }

  private load(document: vscode.TextDocument): Promise<ModelInfo> {
    const key = document.uri.toString();
    const version = document.version;
    const file = document.uri.fsPath;
    const info = this.enqueue(async (): Promise<ModelInfo> => {
      const started = Date.now();
      let runner: RunnerPort | undefined;
      try {
        runner = await this.spawn();
        const summary = await runner.load(file);
        this.log.info(`model info: ${path.basename(file)} built in ${Date.now() - started} ms (${summary.model.totalParams} params)`);
        return { uri: document.uri, version, summary };
      } catch (e) {
        const error: RunError = e instanceof RunnerError ? e.runError : { kind: 'internal', message: (e as Error).message };
        this.log.warn(`model info: ${path.basename(file)}: ${error.message}`);
        return { uri: document.uri, version, error };
      } finally {
        // One build per runner (see warmRunners.ts): this one's work is done.
        runner?.dispose();
      }
    }).then((result) => {
      if (this.entries.get(key)?.info === info) {
        this.latest.set(key, result);
        this.changed.fire(result);
      }
      return result;
    });
    this.entries.set(key, { version, info });
    return info;
  }

  private enqueue<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  override dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    super.dispose();
  }
}
