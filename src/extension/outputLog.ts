// The "Gradient Lens" output channel: runner lifecycle, the runner's own output and the lines the
// user's model prints.
import * as vscode from 'vscode';

export function createLog(): vscode.LogOutputChannel {
  return vscode.window.createOutputChannel('Gradient Lens', { log: true });
}
