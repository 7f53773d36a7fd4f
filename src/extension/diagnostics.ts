// Problems for the user's model file: errors at the user's line (a file that does not build, a
// run that failed) and training pathologies as warnings on the responsible layer's line, with
// what to try (shared/health.ts's thresholds and advice).
import * as vscode from 'vscode';
import { adviceFor, type HealthFlag, type LayerHealth } from '../shared/health';
import type { LayerInfo, RunError, SourceLocation } from '../shared/traceTypes';
import { Disposable } from './disposable';
import type { ModelInfo, ModelInfoCache } from './modelInfoCache';
import type { RunSession } from './runSession';
import type { SessionManager } from './sessions';

const SOURCE = 'Gradient Lens';

const FLAG_TITLE: Record<HealthFlag, string> = {
  'non-finite': 'non-finite values (NaN or Inf)',
  'dead-units': 'mostly dead units',
  'vanishing-gradient': 'vanishing gradient',
  'exploding-gradient': 'exploding gradient',
};

function lineRange(loc: SourceLocation | undefined): vscode.Range {
  const line = Math.max(0, (loc?.line ?? 1) - 1);
  const column = Math.max(0, (loc?.column ?? 1) - 1);
  return new vscode.Range(line, column, line, Number.MAX_SAFE_INTEGER);
}

export function errorDiagnostic(error: RunError): vscode.Diagnostic {
  const where = error.step !== undefined ? ` (step ${error.step})` : '';
  const d = new vscode.Diagnostic(lineRange(error.location), `${error.message}${where}`, vscode.DiagnosticSeverity.Error);
  d.source = SOURCE;
  d.code = error.kind;
  return d;
}

/** One warning per flag, on the line the layer was built. */
export function healthDiagnostics(health: LayerHealth[], layers: LayerInfo[], step: number | undefined): vscode.Diagnostic[] {
  const out: vscode.Diagnostic[] = [];
  for (const h of health) {
    const layer = layers[h.layer];
    if (!layer?.location) continue;
    for (const flag of h.flags) {
      const at = step !== undefined ? ` at step ${step}` : '';
      const d = new vscode.Diagnostic(
        lineRange(layer.location),
        `${layer.name}: ${FLAG_TITLE[flag]}${at}. ${adviceFor(flag)}`,
        flag === 'non-finite' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning,
      );
      d.source = SOURCE;
      d.code = flag;
      out.push(d);
    }
  }
  return out;
}

export class Diagnostics extends Disposable {
  private readonly collection = this.register(vscode.languages.createDiagnosticCollection('gradientLens'));
  /** Per file: what the last load said, and what the latest run of it says. */
  private readonly fromLoad = new Map<string, vscode.Diagnostic[]>();
  private readonly fromRun = new Map<string, vscode.Diagnostic[]>();

  constructor(sessions: SessionManager, models: ModelInfoCache) {
    super();
    this.register(models.onDidChange((info) => this.onModelInfo(info)));
    this.register(sessions.onDidChangeSession((s) => this.onSession(s)));
    this.register(sessions.onDidChangeActive((s) => s && this.onSession(s)));
    // A closed run's findings go with it, unless another run of the file is open.
    this.register(
      sessions.onDidEnd((ended) => {
        const other = sessions.sessionsFor(ended.file)[0];
        if (other) this.onSession(other);
        else {
          this.fromRun.delete(ended.file);
          this.publish(ended.file);
        }
      }),
    );
  }

  diagnosticsFor(file: string): readonly vscode.Diagnostic[] {
    return this.collection.get(vscode.Uri.file(file)) ?? [];
  }

  /** A run of `file` did not start: its error, at its line, until the next run or load. */
  reportFailure(file: string, error: RunError): void {
    this.fromRun.set(file, [errorDiagnostic(error)]);
    this.publish(file);
  }

  private onModelInfo(info: ModelInfo): void {
    const file = info.uri.fsPath;
    this.fromLoad.set(file, info.error ? [errorDiagnostic(info.error)] : []);
    this.publish(file);
  }

  private onSession(session: RunSession): void {
    const file = session.file;
    const diagnostics: vscode.Diagnostic[] = [];
    const error = session.error;
    if (error) {
      // An error without a source line but with a layer (non-finite values) goes on that layer's line.
      const location = error.location ?? (error.layer !== undefined ? session.meta.model.layers[error.layer]?.location : undefined);
      if (!location?.file || location.file === file) diagnostics.push(errorDiagnostic({ ...error, location }));
    }
    const cursor = session.cursor;
    diagnostics.push(...healthDiagnostics(session.healthAtCursor(), session.meta.model.layers, cursor?.step));
    this.fromRun.set(file, diagnostics);
    this.publish(file);
  }

  private publish(file: string): void {
    this.collection.set(vscode.Uri.file(file), [...(this.fromLoad.get(file) ?? []), ...(this.fromRun.get(file) ?? [])]);
  }
}
