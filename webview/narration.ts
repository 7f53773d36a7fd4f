// One sentence for the current phase, in plain words, for someone watching backpropagation for
// the first time; the numbers in it are this step's. For a functional model the sentence names
// the node's real neighbours in the graph (what it reads, whose gradients it sums, where it
// passes its gradient), not "the layer before".
import type { PhaseStop } from '../src/shared/phases';
import type { LayerInfo, ModelGraph, StepRecord } from '../src/shared/traceTypes';
import { h, setText } from './dom';
import { formatInt, formatNum, formatPercent, unitsOf } from '../src/shared/format';
import { findSummary } from './records';
import type { ModelKey, PanelModel, Store } from './state';

/** "A", "A and B", "A, B and C". */
function list(names: readonly string[]): string {
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** A node's neighbours in the graph, by name: what it reads (in slot order), and who reads it (the loss too, for an output). */
export function graphNeighbours(graph: ModelGraph, layers: readonly LayerInfo[], node: number): { reads: string[]; readNodes: string[]; readBy: string[] } {
  const into = graph.edges.filter((e) => e.to === node).sort((x, y) => x.slot - y.slot);
  const nameOf = (e: (typeof into)[number]) => (e.fromInput ? (graph.inputs[e.from]?.name ?? `input ${e.from}`) : (layers[e.from]?.name ?? `node ${e.from}`));
  const unique = (xs: string[]) => [...new Set(xs)];
  const readBy = unique(graph.edges.filter((e) => !e.fromInput && e.from === node).map((e) => layers[e.to]?.name ?? `node ${e.to}`));
  if (graph.outputs.some((o) => o.node === node)) readBy.push('the loss');
  return { reads: unique(into.map(nameOf)), readNodes: unique(into.filter((e) => !e.fromInput).map(nameOf)), readBy };
}

export function narrate(stop: PhaseStop, layers: readonly LayerInfo[], record: StepRecord | undefined, batchSize: number, graph?: ModelGraph): string {
  const layer = stop.layer >= 0 ? layers[stop.layer] : undefined;
  const around = graph && layer ? graphNeighbours(graph, layers, stop.layer) : undefined;
  const stat = (role: Parameters<typeof findSummary>[2], param?: string) => findSummary(record, stop.layer, role, param)?.stats;
  // The step's own batch (an epoch's last may be smaller than the run's batch size).
  const batch = record?.summaries.find((t) => t.role === 'input')?.shape[0] ?? batchSize;
  switch (stop.phase) {
    case 'forward': {
      if (!layer) return '';
      const inputs = formatInt(unitsOf(layer.inputShape));
      const units = formatInt(unitsOf(layer.outputShape));
      const act = layer.activation && layer.activation !== 'linear' ? `, then applies ${layer.activation}` : '';
      const a = stat('activation');
      const what = layer.type === 'Dense' ? `multiplies its ${inputs} inputs by its weights, adds its biases${act}` : `computes its ${units} outputs${act}`;
      const reads = around && around.reads.length > 0 ? `reads ${list(around.reads)} and ` : '';
      return `Forward: for each of the ${formatInt(batch)} examples of the batch, ${layer.name} ${reads}${what}.${a ? ` Its outputs average ${formatNum(a.mean)}.` : ''}`;
    }
    case 'loss':
      if (graph && graph.outputs.length > 1) {
        return `Loss: each output's predictions (${list(graph.outputs.map((o) => o.name))}) are compared with its targets; the batch's loss, the sum of each output's loss, is ${record ? formatNum(record.loss) : '…'}. Training will try to make it smaller.`;
      }
      return `Loss: the predictions are compared with the targets; the batch's loss is ${record ? formatNum(record.loss) : '…'}${record?.accuracy !== undefined && record.accuracy !== null ? ` and ${rightOfBatch(record.accuracy, batch)}` : ''}. Training will try to make the loss smaller.`;
    case 'backward': {
      if (!layer) return '';
      const g = stat('gradParam', layer.params[0]?.name);
      if (!around) {
        const first = stop.layer === 0;
        return `Backward: how much would the loss change if each weight of ${layer.name} moved a little? That is ∂L/∂W${g ? ` (its size ‖∂L/∂W‖ = ${formatNum(g.l2)})` : ''}.${first ? '' : ' The gradient is then passed back to the layer before.'}`;
      }
      const owner = layer.sharesParamsWith !== undefined ? layers[layer.sharesParamsWith] : undefined;
      const weights = owner
        ? `${layer.name} uses the weights of ${owner.name}: their ∂L/∂W, recorded at ${owner.name}, sums the parts from every call.`
        : layer.params.length === 0
          ? `${layer.name} has no weights of its own: it carries the gradient through.`
          : `how much would the loss change if each weight of ${layer.name} moved a little? That is ∂L/∂W${g ? ` (its size ‖∂L/∂W‖ = ${formatNum(g.l2)})` : ''}.`;
      const sum = around.readBy.length > 1 ? ` Its ∂L/∂a is the sum of the parts from ${list(around.readBy)}.` : '';
      const back = around.readNodes.length > 0 ? ` The gradient is then passed back to ${list(around.readNodes)}.` : '';
      return `Backward: ${weights}${sum}${back}`;
    }
    case 'update':
      return `Update: every weight takes a small step against its gradient (learning rate × ∂L/∂W), so the next batch's loss should be a little lower.`;
  }
}

export class Narration {
  readonly el: HTMLElement;

  constructor(private readonly store: Store) {
    this.el = h('p', { class: 'narration', id: 'narration' });
    store.subscribe((m, changed) => this.update(m, changed));
  }

  private update(m: Readonly<PanelModel>, changed: ReadonlySet<ModelKey>): void {
    if (!(changed.has('phaseIndex') || changed.has('record') || changed.has('meta'))) return;
    if (!m.meta) return;
    setText(this.el, narrate(this.store.currentStop(), m.meta.model.layers, m.record, m.meta.config.batchSize, m.meta.model.graph));
  }
}

/** "3 of its 64 examples are right (4.7%)": a count is what a beginner can check; else the fraction alone. */
function rightOfBatch(accuracy: number, batchSize: number): string {
  const right = accuracy * batchSize;
  if (batchSize > 0 && Math.abs(right - Math.round(right)) < 1e-4) return `${formatInt(Math.round(right))} of its ${formatInt(batchSize)} examples are right (${formatPercent(accuracy)})`;
  return `${formatPercent(accuracy)} of its examples are right`;
}
