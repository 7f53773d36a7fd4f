// The "Gradient Lens" output channel: runner lifecycle, the runner's own output and the lines the
// user's model prints.
import * as vscode from 'vscode';
import type { TypeDiagnostic } from '../shared/protocol';

export function createLog(): vscode.LogOutputChannel {
  return vscode.window.createOutputChannel('Gradient Lens', { log: true });
}

/**
 * The runner's type errors, as warnings in the log. Not in Problems: the editor's own TypeScript
 * already shows them there, with the same typings (see src/tsPlugin).
 */
export function logTypeDiagnostics(log: vscode.LogOutputChannel, diagnostics: readonly TypeDiagnostic[]): void {
  for (const d of diagnostics) log.warn(`[type] ${d.file}:${d.line}:${d.column}: TS${d.code}: ${d.message}`);
}
