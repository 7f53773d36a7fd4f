// Hover on a layer call (`tf.layers.dense({...})`): type, output shape, parameter count with its
// formula, and, during or after a run of the file, the current step's statistics.
import * as vscode from 'vscode';
import { layerHealthOf } from '../shared/health';
import type { LayerInfo } from '../shared/traceTypes';
import { formatInt, formatShape } from '../shared/format';
import { changeText } from '../trace/layerChanges';
import type { ChangeMarks } from './changeMarks';
import { activationRows, activationStats, editorNumber } from './layerFormat';
import { layerAtLine, type ModelInfoCache } from './modelInfoCache';
import type { SessionManager } from './sessions';
import { codeSpan, escapeMarkdown as text } from './traceTrust';

/** A line that builds a layer (`tf.layers.dense(`, `layers.conv2d(`…) or taps a hand-written stage (`tap(`). */
export const LAYER_CALL = /\blayers\s*\.\s*[a-zA-Z0-9]+\s*\(|\btap\s*\(/;

export class LayerHoverProvider implements vscode.HoverProvider {
  constructor(
    private readonly models: ModelInfoCache,
    private readonly sessions: SessionManager,
    private readonly changes?: Pick<ChangeMarks, 'changesFor'>,
  ) {}

  async provideHover(document: vscode.TextDocument, position: vscode.Position, token: vscode.CancellationToken): Promise<vscode.Hover | undefined> {
    const lineText = document.lineAt(position.line).text;
    const call = LAYER_CALL.exec(lineText);
    if (!call) return undefined;
    const file = document.uri.fsPath;
    // A session of this file knows the layers too (and has numbers); else build the model.
    const session = this.sessions.sessionsFor(file)[0];
    let layer: LayerInfo | undefined = session ? layerAtLine(session.meta.model.layers, file, position.line) : undefined;
    if (!layer) {
      const pending = this.models.get(document);
      if (!pending) return undefined;
      const info = await pending;
      if (token.isCancellationRequested) return undefined;
      if (info.error) {
        const md = new vscode.MarkdownString(`**Gradient Lens** · the model did not build: ${text(info.error.message)}`);
        return new vscode.Hover(md);
      }
      layer = info.summary ? layerAtLine(info.summary.model.layers, file, position.line) : undefined;
    }
    if (!layer) return undefined;
    const range = new vscode.Range(position.line, call.index, position.line, call.index + call[0].length);
    const md = this.describe(layer, session);
    // After a rerun: how much this layer's numbers moved against the file's previous run.
    const change = session ? this.changes?.changesFor(file)?.byLayer.get(layer.index) : undefined;
    if (change) {
      const first = change.firstDifferentStep === undefined ? 'identical at every shared step' : `first differs at step ${change.firstDifferentStep}`;
      md.appendMarkdown(`\n\n---\n\n${text(changeText(change))} · ${first}`);
    }
    return new vscode.Hover(md, range);
  }

  private describe(layer: LayerInfo, session: ReturnType<SessionManager['sessionsFor']>[number] | undefined): vscode.MarkdownString {
    // Names, formulas and activations come from the trace's meta.json: escaped, never Markdown.
    const md = new vscode.MarkdownString();
    md.appendMarkdown(`**${text(layer.type)}** ${codeSpan(layer.name)} · output ${codeSpan(formatShape(layer.outputShape))}`);
    if (layer.activation && layer.activation !== 'linear') md.appendMarkdown(` · ${text(layer.activation)}`);
    md.appendMarkdown(`\n\n**${formatInt(layer.paramCount)} parameters**: ${codeSpan(layer.paramFormula)}`);
    const record = session?.recordAtCursor();
    if (session && record) {
      const stats = activationStats(record, layer.index);
      const health = layerHealthOf(record, session.meta.model.layers, layer.index);
      const inProgress = record === session.heldRecord ? ' (in progress)' : '';
      const loss = Number.isFinite(record.loss) ? ` · loss ${editorNumber(record.loss)}` : '';
      md.appendMarkdown(`\n\n---\n\nStep ${record.step}${inProgress}${loss}\n\n`);
      const rows: [string, string][] = [];
      if (stats) rows.push(...activationRows(stats));
      if (health?.gradNorm !== undefined) rows.push(['‖∂L/∂W‖', editorNumber(health.gradNorm)]);
      if (health?.gradToWeight !== undefined) rows.push(['‖∂L/∂W‖ / ‖W‖', editorNumber(health.gradToWeight)]);
      if (rows.length > 0) {
        md.appendMarkdown('| | |\n|---|---|\n');
        for (const [k, v] of rows) md.appendMarkdown(`| ${k} | ${v} |\n`);
      }
      if (health && health.flags.length > 0) md.appendMarkdown(`\n⚠ ${health.flags.join(', ')}`);
    }
    return md;
  }
}
