// The selected layer: what it is, its health at this step (flags with advice), this step's
// statistics for each captured tensor as a table, heat strips of their histograms over the run,
// and heatmaps of the weight matrix and its gradient.
import { missingFromKeyframe } from '../src/shared/keyframeContents';
import { adviceFor, layerHealthOf } from '../src/shared/health';
import type { LayerInfo, StepRecord, TensorRole } from '../src/shared/traceTypes';
import { h, setHidden, setText } from './dom';
import { STAT_COLUMNS, formatInt, formatNum, formatPercent, formatShape, roleSymbol, roleWords } from '../src/shared/format';
import { HeatStrip } from './heatStrip';
import { Heatmap } from './heatmap';
import { findTensor } from './records';
import { historyKey, type ModelKey, type PanelModel, type Store } from './state';
import type { Theme } from './theme';

const STRIP_ROLES: { role: TensorRole; main: boolean }[] = [
  { role: 'activation', main: false },
  { role: 'gradActivation', main: false },
  { role: 'param', main: true },
  { role: 'gradParam', main: true },
  { role: 'delta', main: true },
];

export class LayerPanel {
  readonly el: HTMLElement;
  private readonly title: HTMLElement;
  private readonly subtitle: HTMLElement;
  private readonly flags: HTMLElement;
  private readonly statsBody: HTMLElement;
  private statsKeys = '';
  private statsCells: HTMLElement[][] = [];
  private readonly strips: HeatStrip[];
  private readonly weights: Heatmap;
  private readonly gradient: Heatmap;
  private readonly matrixTitle: HTMLElement;
  private readonly matrices: HTMLElement;

  constructor(
    private readonly store: Store,
    theme: Theme,
    jump: (step: number) => void,
    private readonly keyframeFor: (step: number) => number,
  ) {
    this.title = h('h2', { id: 'layer-title', text: 'Layer' });
    this.subtitle = h('div', { class: 'muted', id: 'layer-subtitle' });
    this.flags = h('ul', { class: 'flags', id: 'health', 'aria-label': 'Health' });
    this.statsBody = h('tbody', {});
    const table = h(
      'table',
      { class: 'stats', 'aria-label': 'Statistics at this step' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: 'tensor' }), ...STAT_COLUMNS.map((c) => h('th', { scope: 'col', title: c.words, text: c.label })))),
      this.statsBody,
    );
    this.strips = STRIP_ROLES.map((r) => new HeatStrip(`${roleSymbol(r.role, r.main ? 'kernel' : undefined)} — ${roleWords(r.role, r.main ? 'kernel' : undefined)}`, theme, jump));
    this.weights = new Heatmap('W — weights', theme);
    this.gradient = new Heatmap('∂L/∂W — gradient of the weights', theme);
    this.matrixTitle = h('h3', { text: 'Weight matrix' });
    this.matrices = h('div', { class: 'heatmaps' }, this.weights.el, this.gradient.el);
    this.el = h(
      'section',
      { class: 'card layer-panel', 'aria-labelledby': 'layer-title' },
      this.title,
      this.subtitle,
      this.flags,
      table,
      h('h3', { text: 'Distributions over the run' }),
      h('div', { class: 'strips' }, ...this.strips.map((s) => s.el)),
      this.matrixTitle,
      this.matrices,
    );
    store.subscribe((m, changed) => this.update(m, changed));
  }

  setTheme(theme: Theme): void {
    for (const s of this.strips) s.setTheme(theme);
    this.weights.setTheme(theme);
    this.gradient.setTheme(theme);
    this.markStrips();
  }

  private layer(): LayerInfo | undefined {
    const m = this.store.state;
    return m.meta?.model.layers[m.selectedLayer];
  }

  private update(m: Readonly<PanelModel>, changed: ReadonlySet<ModelKey>): void {
    const layer = this.layer();
    if (!layer) return;
    if (changed.has('selectedLayer') || changed.has('meta')) {
      setText(this.title, `${layer.name} · ${layer.type}${layer.activation ? ` (${layer.activation})` : ''}`);
      setText(this.subtitle, `output ${formatShape(layer.outputShape)} · ${formatInt(layer.paramCount)} parameters${layer.paramFormula ? ` — ${layer.paramFormula}` : ''}${layer.nativeBackward ? '' : ' · backward by tfjs autodiff'}`);
    }
    if (changed.has('selectedLayer') || changed.has('record') || changed.has('meta')) this.renderStats(layer, m.record);
    if (changed.has('histories') || changed.has('selectedLayer') || changed.has('meta')) {
      const main = layer.params[0]?.name;
      // A layer without parameters (flatten, dropout, pooling) has only its activations' strips.
      STRIP_ROLES.forEach((r, i) => {
        setHidden(this.strips[i].el, r.main && !main);
        if (r.main && main) this.strips[i].setTitle(`${roleSymbol(r.role, main)} — ${roleWords(r.role, main)}`);
      });
      setHidden(this.matrixTitle, !main);
      setHidden(this.matrices, !main);
      STRIP_ROLES.forEach((r, i) => this.strips[i].setSeries(m.histories.get(historyKey(layer.index, r.role, r.main ? main : undefined))));
      this.markStrips();
    } else if (changed.has('step')) this.markStrips();
    if (changed.has('paramRecord') || changed.has('selectedLayer') || changed.has('step') || changed.has('meta')) this.renderHeatmaps(layer, m.paramRecord, m.step);
  }

  private markStrips(): void {
    for (const s of this.strips) s.mark(this.store.state.step);
  }

  private renderStats(layer: LayerInfo, record: StepRecord | undefined): void {
    const meta = this.store.state.meta;
    const mine = record?.summaries.filter((s) => s.layer === layer.index) ?? [];
    const keys = mine.map((s) => `${s.role}/${s.param ?? ''}`).join(',');
    // Same tensors as last time (the usual step change): rewrite the cells, keep the rows.
    if (keys !== this.statsKeys || mine.length === 0) {
      this.statsKeys = keys;
      this.statsCells = [];
      const rows = mine.map((s) => {
        const cells = STAT_COLUMNS.map(() => h('td', {}));
        this.statsCells.push(cells);
        return h('tr', {}, h('th', { scope: 'row', title: roleWords(s.role, s.param), text: roleSymbol(s.role, s.param) }), ...cells);
      });
      if (rows.length === 0) rows.push(h('tr', {}, h('td', { colspan: STAT_COLUMNS.length + 1, class: 'muted', text: record ? 'No statistics recorded for this layer.' : 'Loading…' })));
      this.statsBody.replaceChildren(...rows);
    }
    mine.forEach((s, i) => {
      const st = s.stats;
      this.statsCells[i].forEach((td, k) => setText(td, st ? STAT_COLUMNS[k].format(st) : '—'));
      this.statsCells[i][0].parentElement?.classList.toggle('bad', !!st && STAT_COLUMNS.some((c) => c.bad?.(st)));
    });

    const health = record && meta ? layerHealthOf(record, meta.model.layers, layer.index) : undefined;
    const items: HTMLElement[] = [];
    if (health) {
      for (const f of health.flags) {
        items.push(h('li', { class: `flag flag-${f}` }, h('span', { class: 'codicon codicon-warning', 'aria-hidden': 'true' }), h('strong', { text: f.replace('-', ' ') }), ` — ${adviceFor(f)}`));
      }
      if (health.flags.length === 0) items.push(h('li', { class: 'flag flag-ok' }, h('span', { class: 'codicon codicon-pass', 'aria-hidden': 'true' }), 'healthy at this step'));
      const facts: string[] = [];
      if (health.deadFraction !== undefined) facts.push(`dead units ${formatPercent(health.deadFraction)}`);
      if (health.gradNorm !== undefined) facts.push(`‖∂L/∂W‖ ${formatNum(health.gradNorm)}`);
      if (health.gradToWeight !== undefined) facts.push(`‖∂L/∂W‖/‖W‖ ${formatNum(health.gradToWeight)}`);
      if (facts.length > 0) items.push(h('li', { class: 'flag-facts muted', text: facts.join(' · ') }));
    }
    this.flags.replaceChildren(...items);
  }

  private renderHeatmaps(layer: LayerInfo, record: StepRecord | undefined, step: number): void {
    const main = layer.params[0]?.name;
    if (!main) {
      this.weights.set(undefined, 'this layer has no parameters');
      this.gradient.set(undefined, 'this layer has no parameters');
      return;
    }
    const w = findTensor(record, layer.index, 'param', main);
    const g = findTensor(record, layer.index, 'gradParam', main);
    const keyframe = this.keyframeFor(step);
    const from = record ? (record.step === step ? `step ${formatInt(step)}` : `keyframe step ${formatInt(record.step)} (full tensors are kept at keyframes)`) : '';
    const missing =
      keyframe > this.store.lastRecordedStep()
        ? `kept once step ${formatInt(keyframe)} completes`
        : record && record.step === keyframe
          ? notKept(record)
          : `loading keyframe step ${formatInt(keyframe)}…`;
    this.weights.set(w, w ? `after the update of ${from}` : missing);
    this.gradient.set(g, g ? from : record?.keyframe ? notKept(record) : record ? `not kept at ${from || 'this step'}` : missing);
  }
}

/** Why a keyframe has no full values of a tensor: thinned by the trace budget, or over its own budget. */
function notKept(record: StepRecord): string {
  if (record.keyframeDropped) return `keyframe step ${formatInt(record.step)}'s full tensors were thinned out to keep the trace within its budget`;
  if (!record.keyframe) return 'not kept in this trace';
  const lacks = missingFromKeyframe(record)?.length ?? 0;
  return `keyframe step ${formatInt(record.step)} lacks it (${formatInt(lacks)} of its ${formatInt(record.summaries.length)} tensors did not fit its per-keyframe budget, gradientLens.capture.keyframeBudgetBytes)`;
}
