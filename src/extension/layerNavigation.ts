// Between the panel and the code: a layer picked in the panel reveals the line that built it;
// the editor's cursor on a layer's line selects that layer in the panel.
import * as vscode from 'vscode';
import { Disposable } from './disposable';
import { holdFromModelInfo, layerAtLine } from './modelInfoCache';
import type { RunSession } from './runSession';
import type { SessionManager } from './sessions';
import { locationRefusal } from './traceTrust';

/**
 * Shows the line `layer` was built on, in the editor that has the file (or the first column).
 * The location comes from the trace, which may come from anywhere: it opens only inside an open
 * workspace folder, and a file opened this way is not built by the model-info runner.
 */
export async function revealLayer(session: RunSession, layer: number): Promise<vscode.TextEditor | undefined> {
  const loc = session.meta.model.layers[layer]?.location;
  if (!loc) return undefined;
  const refusal = locationRefusal(loc.file, (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath));
  if (refusal) {
    void vscode.window.showWarningMessage(`Gradient Lens: not opening the line this trace gives for layer ${layer}: ${refusal}.`);
    return undefined;
  }
  const uri = vscode.Uri.file(loc.file);
  const alreadyOpen = vscode.workspace.textDocuments.some((d) => d.uri.fsPath === uri.fsPath);
  if (!alreadyOpen) holdFromModelInfo(uri);
  const visible = vscode.window.visibleTextEditors.find((e) => e.document.uri.fsPath === uri.fsPath);
  const position = new vscode.Position(Math.max(0, loc.line - 1), Math.max(0, loc.column - 1));
  const editor = await vscode.window.showTextDocument(uri, {
    viewColumn: visible?.viewColumn ?? vscode.ViewColumn.One,
    preserveFocus: true,
    selection: new vscode.Range(position, position),
  });
  editor.revealRange(new vscode.Range(position, position), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  return editor;
}

export class CursorLayerSync extends Disposable {
  private lastKey = '';

  constructor(private readonly sessions: SessionManager) {
    super();
    this.register(vscode.window.onDidChangeTextEditorSelection((e) => this.onSelection(e)));
  }

  private onSelection(e: vscode.TextEditorSelectionChangeEvent): void {
    // Our own reveal moves the cursor too: selecting the layer the panel just picked is harmless
    // (the panel does not echo a host's selection back).
    const file = e.textEditor.document.uri.fsPath;
    const line = e.selections[0]?.active.line;
    if (line === undefined) return;
    for (const session of this.sessions.sessionsFor(file)) {
      const layer = layerAtLine(session.meta.model.layers, file, line);
      if (!layer) continue;
      const key = `${session.id}:${layer.index}`;
      if (key === this.lastKey) return;
      this.lastKey = key;
      for (const panel of this.sessions.panelsOf(session)) panel.selectLayer(layer.index);
      return;
    }
    this.lastKey = '';
  }
}
