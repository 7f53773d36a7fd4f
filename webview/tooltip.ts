// One tooltip element for the whole panel, positioned next to what it describes, and the
// words it shows for a layer: type, output shape, parameters with their formula, this step's
// statistics and health.
import type { LayerHealth } from '../src/shared/health';
import type { LayerInfo, StepRecord, TensorSummary } from '../src/shared/traceTypes';
import { h } from './dom';
import { formatInt, formatNum, formatShape, roleSymbol, roleWords, statsLine } from '../src/shared/format';

export interface TooltipContent {
  title: string;
  rows: [string, string][];
  notes?: string[];
}

export class Tooltip {
  readonly el: HTMLElement;
  private anchor: Element | undefined;

  constructor(parent: HTMLElement) {
    this.el = h('div', { class: 'tooltip', role: 'tooltip', id: 'tooltip' });
    this.el.hidden = true;
    parent.append(this.el);
  }

  show(anchor: Element, content: TooltipContent): void {
    this.anchor = anchor;
    this.render(content);
    this.el.hidden = false;
    this.place(anchor);
  }

  /** New content for the element already shown (the step changed under the pointer). */
  update(content: TooltipContent): void {
    if (this.el.hidden || !this.anchor) return;
    this.render(content);
    this.place(this.anchor);
  }

  hide(anchor?: Element): void {
    if (anchor && anchor !== this.anchor) return;
    this.anchor = undefined;
    this.el.hidden = true;
  }

  private render(c: TooltipContent): void {
    const table = h('table', {});
    for (const [k, v] of c.rows) table.append(h('tr', {}, h('th', { scope: 'row', text: k }), h('td', { text: v })));
    this.el.replaceChildren(h('div', { class: 'tooltip-title', text: c.title }), table, ...(c.notes ?? []).map((n) => h('div', { class: 'tooltip-note', text: n })));
  }

  private place(anchor: Element): void {
    const r = anchor.getBoundingClientRect();
    const tw = this.el.offsetWidth;
    const th = this.el.offsetHeight;
    let left = r.left + r.width / 2 - tw / 2;
    left = Math.max(4, Math.min(window.innerWidth - tw - 4, left));
    let top = r.bottom + 6;
    if (top + th > window.innerHeight - 4 && r.top - th - 6 > 0) top = r.top - th - 6;
    this.el.style.left = `${Math.round(left + window.scrollX)}px`;
    this.el.style.top = `${Math.round(top + window.scrollY)}px`;
  }
}

function statsRow(s: TensorSummary): [string, string] {
  const label = `${roleSymbol(s.role, s.param)} (${roleWords(s.role, s.param)})`;
  return [label, s.stats ? statsLine(s.stats) : formatShape(s.shape)];
}

export function layerTooltip(layer: LayerInfo, record: StepRecord | undefined, health: LayerHealth | undefined): TooltipContent {
  const rows: [string, string][] = [
    ['Type', layer.activation ? `${layer.type} (${layer.activation})` : layer.type],
    ['Output shape', formatShape(layer.outputShape)],
    ['Parameters', formatInt(layer.paramCount)],
  ];
  if (layer.paramFormula) rows.push(['Formula', layer.paramFormula]);
  if (record) {
    rows.push(['Step', formatInt(record.step)]);
    const mine = record.summaries.filter((s) => s.layer === layer.index && s.stats);
    for (const role of ['activation', 'gradActivation', 'gradParam', 'delta'] as const) {
      const s = mine.find((m) => m.role === role && (m.param === undefined || m.param === layer.params[0]?.name));
      if (s) rows.push(statsRow(s));
    }
  }
  const notes: string[] = [];
  if (health) {
    if (health.gradToWeight !== undefined) rows.push(['‖∂L/∂W‖ / ‖W‖', formatNum(health.gradToWeight)]);
    for (const f of health.flags) notes.push(`⚠ ${f}`);
  }
  if (layer.location) notes.push(`Built at line ${layer.location.line}`);
  return { title: `${layer.name} · ${layer.type}`, rows, notes };
}
