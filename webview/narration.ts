// One sentence for the current phase, in plain words, for someone watching backpropagation for
// the first time; the numbers in it are this step's.
import type { PhaseStop } from '../src/shared/phases';
import type { LayerInfo, StepRecord } from '../src/shared/traceTypes';
import { h, setText } from './dom';
import { formatInt, formatNum, unitsOf } from '../src/shared/format';
import { findSummary } from './records';
import type { ModelKey, PanelModel, Store } from './state';

export function narrate(stop: PhaseStop, layers: readonly LayerInfo[], record: StepRecord | undefined, batchSize: number): string {
  const layer = stop.layer >= 0 ? layers[stop.layer] : undefined;
  const stat = (role: Parameters<typeof findSummary>[2], param?: string) => findSummary(record, stop.layer, role, param)?.stats;
  switch (stop.phase) {
    case 'forward': {
      if (!layer) return '';
      const inputs = formatInt(unitsOf(layer.inputShape));
      const units = formatInt(unitsOf(layer.outputShape));
      const act = layer.activation && layer.activation !== 'linear' ? `, then applies ${layer.activation}` : '';
      const a = stat('activation');
      const what = layer.type === 'Dense' ? `multiplies its ${inputs} inputs by its weights, adds its biases${act}` : `computes its ${units} outputs${act}`;
      return `Forward: for each of the ${formatInt(batchSize)} examples of the batch, ${layer.name} ${what}.${a ? ` Its outputs average ${formatNum(a.mean)}.` : ''}`;
    }
    case 'loss':
      return `Loss: the predictions are compared with the targets; the batch's loss is ${record ? formatNum(record.loss) : '…'}${record?.accuracy !== undefined && record.accuracy !== null ? ` and ${formatNum(record.accuracy * 100)}% of its examples are right` : ''}. Training will try to make the loss smaller.`;
    case 'backward': {
      if (!layer) return '';
      const g = stat('gradParam', layer.params[0]?.name);
      const first = stop.layer === 0;
      return `Backward: how much would the loss change if each weight of ${layer.name} moved a little? That is ∂L/∂W${g ? ` (its size ‖∂L/∂W‖ = ${formatNum(g.l2)})` : ''}.${first ? '' : ' The gradient is then passed back to the layer before.'}`;
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
    setText(this.el, narrate(this.store.currentStop(), m.meta.model.layers, m.record, m.meta.config.batchSize));
  }
}
