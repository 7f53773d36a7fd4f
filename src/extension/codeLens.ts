// CodeLens above each model definition: "▶ Trace · 235,146 params". The count comes from the
// model info (built in the runner on open and save); the lens resolves once it is there.
import * as vscode from 'vscode';
import { formatInt } from '../shared/format';
import { looksLikeModelFile, type ModelInfoCache } from './modelInfoCache';
import { Disposable } from './disposable';

/** Where a model is defined: `tf.sequential(`, `tf.model(`, `tappedModel(`. */
const MODEL_DEFINITION = /\btf\.(sequential|model)\s*\(|\btappedModel\s*\(/;
const TRAINING_DEFINITION = /\bdefineTraining\s*\(/;

class ModelLens extends vscode.CodeLens {
  constructor(
    range: vscode.Range,
    readonly document: vscode.TextDocument,
  ) {
    super(range);
  }
}

/** Lines (0-based) that define a model; the `defineTraining(` line when none does. */
export function modelDefinitionLines(document: vscode.TextDocument): number[] {
  const lines: number[] = [];
  let training = -1;
  for (let i = 0; i < document.lineCount; i++) {
    const text = document.lineAt(i).text;
    if (MODEL_DEFINITION.test(text)) lines.push(i);
    else if (training < 0 && TRAINING_DEFINITION.test(text)) training = i;
  }
  return lines.length > 0 ? lines : training >= 0 ? [training] : [];
}

export class ModelCodeLensProvider extends Disposable implements vscode.CodeLensProvider<ModelLens> {
  private readonly changed = this.register(new vscode.EventEmitter<void>());
  readonly onDidChangeCodeLenses = this.changed.event;

  constructor(private readonly models: ModelInfoCache) {
    super();
    this.register(models.onDidChange(() => this.changed.fire()));
    this.register(vscode.workspace.onDidGrantWorkspaceTrust(() => this.changed.fire()));
  }

  provideCodeLenses(document: vscode.TextDocument): ModelLens[] {
    if (!looksLikeModelFile(document)) return [];
    return modelDefinitionLines(document).map((line) => new ModelLens(document.lineAt(line).range, document));
  }

  async resolveCodeLens(lens: ModelLens, token: vscode.CancellationToken): Promise<ModelLens> {
    let title = '▶ Trace';
    let tooltip = 'Gradient Lens: trace a training run of this file';
    const pending = this.models.get(lens.document);
    if (pending) {
      const info = await pending;
      if (token.isCancellationRequested) return lens;
      if (info.summary) {
        const model = info.summary.model;
        title = `▶ Trace · ${formatInt(model.totalParams)} params`;
        tooltip = `${model.layers.length} layers, ${formatInt(model.trainableParams)} trainable parameters · backend ${info.summary.backend.name}`;
      } else if (info.error) {
        title = '▶ Trace · the model did not build';
        tooltip = info.error.message;
      }
    } else if (!vscode.workspace.isTrusted) {
      tooltip = 'Trust this workspace to build and trace the model';
    }
    lens.command = { title, tooltip, command: 'gradientLens.traceFile', arguments: [lens.document.uri] };
    return lens;
  }
}
