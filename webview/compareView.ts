// The compare view ("Compare with…"): which run this one is compared with, where the two first
// differ (named, one click away), the tolerance, which layers were matched and which were not,
// and for the current step every phase's tensors side by side with the difference. Everything
// about the comparison comes from the host's diff; the view only lays out the two records.
import { phaseStops, describeStop, type PhaseStop } from '../src/shared/phases';
import type { CompareRun } from '../src/shared/protocol';
import type { StepRecord, TensorRole, TensorSummary } from '../src/shared/traceTypes';
import { STAT_COLUMNS, formatInt, formatNum, formatDelta, roleSymbol, roleWords } from '../src/shared/format';
import { h, setHidden, setText } from './dom';
import type { ModelKey, PanelModel, Store } from './state';

export interface CompareActions {
  jump(): void;
  setTolerance(tolerance: number): void;
  close(): void;
  report(): void;
}

const ROLES_OF: Record<'forward' | 'backward' | 'update', TensorRole[]> = {
  forward: ['input', 'preactivation', 'activation'],
  backward: ['gradActivation', 'gradPreactivation', 'gradParam'],
  update: ['param', 'delta'],
};

const METRICS = [
  ['loss', 'loss'],
  ['accuracy', 'accuracy'],
] as const;

/** One tensor of this run beside its baseline counterpart. */
interface Pair {
  label: string;
  words: string;
  mine?: TensorSummary;
  theirs?: TensorSummary;
}

function codiconButton(id: string, icon: string, text: string, secondary: boolean, run: () => void): HTMLElement {
  const b = h('vscode-button', { id, icon, secondary });
  b.textContent = text;
  b.addEventListener('click', run);
  return b;
}

export class CompareView {
  readonly el: HTMLElement;
  /** Shown instead of the view when a comparison saved before a reload could not be restored. */
  readonly noticeEl: HTMLElement;
  private readonly baselineText: HTMLElement;
  private readonly verdict: HTMLElement;
  private readonly verdictText: HTMLElement;
  private readonly differences: HTMLElement;
  private readonly jumpButton: HTMLElement;
  private readonly tolerance: HTMLInputElement;
  private readonly toleranceError: HTMLElement;
  private readonly matching: HTMLElement;
  private readonly notes: HTMLElement;
  private readonly stepTitle: HTMLElement;
  private readonly table: HTMLTableElement;
  private readonly head: HTMLTableSectionElement;
  private readonly scroller: HTMLElement;
  private shownStop = -1;

  constructor(
    private readonly store: Store,
    private readonly actions: CompareActions,
  ) {
    this.baselineText = h('p', { class: 'muted', id: 'compare-baseline' });
    this.verdictText = h('strong', { id: 'compare-verdict-text' });
    this.differences = h('ul', { class: 'compare-differences', id: 'compare-differences' });
    this.jumpButton = codiconButton('compare-jump', 'debug-step-into', 'Go there', false, () => actions.jump());
    this.verdict = h('div', { class: 'compare-verdict', id: 'compare-verdict', role: 'status' }, h('span', { class: 'codicon', 'aria-hidden': 'true' }), this.verdictText, this.differences, this.jumpButton);
    // A vscode-textfield is a form-associated element with a `value`, like an input.
    this.tolerance = h('vscode-textfield', { id: 'compare-tolerance', value: '0', 'aria-label': 'Tolerance' }) as unknown as HTMLInputElement;
    this.toleranceError = h('span', { class: 'compare-tolerance-error', id: 'compare-tolerance-error' });
    this.tolerance.addEventListener('change', () => this.onTolerance());
    this.matching = h('p', { id: 'compare-matching' });
    this.notes = h('p', { class: 'muted', id: 'compare-notes' });
    this.stepTitle = h('h3', { id: 'compare-step-title' });
    const head = h(
      'div',
      { class: 'compare-head' },
      h('h2', { id: 'compare-title', text: 'Compared with a baseline run' }),
      h('div', { class: 'compare-buttons' }, codiconButton('compare-report', 'output', 'Full report', true, () => actions.report()), codiconButton('compare-close', 'close', 'Close', true, () => actions.close())),
    );
    const toleranceRow = h(
      'div',
      { class: 'compare-tolerance' },
      h('vscode-label', { for: 'compare-tolerance', text: 'Tolerance' }),
      this.tolerance,
      h('span', { class: 'muted', text: '0 compares exactly; t > 0 lets |a − b| ≤ t · max(1, |a|, |b|) agree' }),
      this.toleranceError,
    );
    this.head = h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: 'tensor' }), h('th', { scope: 'col', text: 'run' }), ...STAT_COLUMNS.map((c) => h('th', { scope: 'col', title: c.words, text: c.label }))));
    this.table = h('table', { class: 'stats compare-table', id: 'compare-table', 'aria-labelledby': 'compare-step-title' }, this.head);
    // Every phase of the step is there; the box scrolls, kept at the current phase's group.
    this.scroller = h('div', { class: 'compare-scroller', tabindex: 0, 'aria-label': 'This step, phase by phase' }, this.table);
    this.el = h('section', { class: 'card compare-view', id: 'compare', 'aria-labelledby': 'compare-title' }, head, this.baselineText, this.verdict, toleranceRow, this.matching, this.notes, this.stepTitle, this.scroller);
    this.el.hidden = true;
    this.noticeEl = h('p', { class: 'card compare-notice muted', id: 'compare-notice', role: 'status' });
    this.noticeEl.hidden = true;
    store.subscribe((m, changed) => this.update(m, changed));
  }

  private onTolerance(): void {
    const raw = this.tolerance.value.trim();
    const t = raw === '' ? 0 : Number(raw);
    const ok = Number.isFinite(t) && t >= 0;
    this.tolerance.toggleAttribute('invalid', !ok);
    setText(this.toleranceError, ok ? '' : `“${raw}” is not a number ≥ 0`);
    if (ok && t !== this.store.state.compare?.tolerance) this.actions.setTolerance(t);
  }

  private update(m: Readonly<PanelModel>, changed: ReadonlySet<ModelKey>): void {
    const c = m.compare;
    if (changed.has('compareNotice') || changed.has('compare')) {
      setText(this.noticeEl, c ? '' : m.compareNotice);
      setHidden(this.noticeEl, !!c || m.compareNotice === '');
    }
    setHidden(this.el, !c);
    document.body.classList.toggle('comparing', !!c);
    if (!c || !m.meta) return;
    if (changed.has('compare') || changed.has('meta')) this.renderSummary(c);
    if (changed.has('compare') || changed.has('record') || changed.has('baseline') || changed.has('step') || changed.has('phaseIndex') || changed.has('meta')) this.renderStep(m, c);
  }

  private renderSummary(c: CompareRun): void {
    setText(this.baselineText, `Baseline: ${c.baselineLabel}`);
    if (document.activeElement !== this.tolerance) this.tolerance.value = String(c.tolerance);
    const how = c.tolerance === 0 ? 'exactly' : `within a tolerance of ${c.tolerance}`;
    const d = c.divergence;
    const icon = this.verdict.firstElementChild as HTMLElement;
    icon.className = `codicon ${d ? 'codicon-diff' : c.identical ? 'codicon-pass' : 'codicon-info'}`;
    this.verdict.dataset.verdict = d ? 'diverges' : c.identical ? 'identical' : 'differs';
    if (d) {
      setText(this.verdictText, `First divergence: step ${formatInt(d.step)} · ${d.where}`);
      this.differences.replaceChildren(...d.differences.map((t) => h('li', { text: t })), ...(d.moreDifferences > 0 ? [h('li', { class: 'muted', text: `and ${d.moreDifferences} more there` })] : []));
      this.jumpButton.textContent = `Go to step ${formatInt(d.step)} · ${d.where}`;
    } else if (c.identical) {
      setText(this.verdictText, `Identical: every captured value of ${formatInt(c.sharedSteps)} steps agrees ${how}`);
      this.differences.replaceChildren();
    } else {
      setText(this.verdictText, `No divergence on the ${formatInt(c.sharedSteps)} shared steps and matched layers (compared ${how}), but the runs differ`);
      this.differences.replaceChildren();
    }
    setHidden(this.jumpButton, !d);
    const unmatched = c.layers.filter((l) => l.baselineIndex === undefined);
    const renamed = c.layers.filter((l) => l.baselineName !== undefined && l.baselineName !== l.name);
    const parts: string[] = [];
    const matched = c.layers.length - unmatched.length;
    parts.push(`${matched} of ${c.layers.length} layers compared, matched by name and position.`);
    if (renamed.length > 0) parts.push(`Matched by position: ${renamed.map((l) => `${l.name} ↔ ${l.baselineName}`).join(', ')}.`);
    if (unmatched.length > 0) parts.push(`Not matched, only in this run: ${unmatched.map((l) => `#${l.index} ${l.name}`).join(', ')}.`);
    if (c.baselineOnly.length > 0) parts.push(`Not matched, only in the baseline: ${c.baselineOnly.map((l) => `#${l.index} ${l.name}`).join(', ')}.`);
    setText(this.matching, parts.join(' '));
    this.matching.classList.toggle('compare-unmatched', unmatched.length + c.baselineOnly.length > 0);
    setText(this.notes, c.notes.length > 0 ? `Also different: ${c.notes.join('; ')}.` : '');
  }

  private renderStep(m: Readonly<PanelModel>, c: CompareRun): void {
    const layers = m.meta?.model.layers ?? [];
    const names = layers.map((l) => l.name);
    const record = m.record?.step === m.step ? m.record : undefined;
    const baseline = m.baseline?.step === m.step ? m.baseline : undefined;
    setText(this.stepTitle, `Step ${formatInt(m.step)}: this run, the baseline and the difference (this run − baseline)`);
    if (!record || !baseline) {
      this.setGroups([this.note(record ? 'Loading the baseline…' : 'Loading…')]);
      return;
    }
    if (!baseline.record) {
      this.setGroups([this.note(`The baseline has no step ${formatInt(m.step)} (it recorded ${formatInt(c.baselineStepCount)}).`)]);
      return;
    }
    const theirs = baseline.record;
    const stops = phaseStops(layers.length);
    const groups = stops.map((stop, i) => this.group(stop, i, describeStop(stop, names), record, theirs, c, m.phaseIndex === i));
    this.setGroups(groups);
    if (this.shownStop !== m.phaseIndex) {
      this.shownStop = m.phaseIndex;
      const current = groups[m.phaseIndex];
      // Scrolls the box only, never the page around it.
      if (current) this.scroller.scrollTop = Math.max(0, current.offsetTop - this.head.offsetHeight);
    }
  }

  /** The table's row groups (tbody elements directly in the table: a wrapper would break its columns). */
  private setGroups(groups: HTMLElement[]): void {
    this.table.replaceChildren(this.head, ...groups);
  }

  private note(text: string): HTMLElement {
    return h('tbody', {}, h('tr', {}, h('td', { colspan: STAT_COLUMNS.length + 2, class: 'muted', text })));
  }

  private group(stop: PhaseStop, index: number, where: string, mine: StepRecord, theirs: StepRecord, c: CompareRun, current: boolean): HTMLElement {
    const d = c.divergence;
    const divergent = !!d && d.step === mine.step && d.phaseIndex === index;
    const title = h('th', { colspan: STAT_COLUMNS.length + 2, scope: 'rowgroup' }, where);
    if (divergent) title.append(h('vscode-badge', { class: 'divergence-badge', text: 'first divergence' }));
    const verdict = h('span', { class: 'group-verdict' });
    title.append(verdict);
    if (current) title.append(h('span', { class: 'muted', text: ' · current phase' }));
    const rows: HTMLElement[] = [h('tr', { class: 'group' }, title)];
    let differs = false;
    if (stop.phase === 'loss') {
      for (const [key, label] of METRICS) {
        const a = mine[key];
        const b = theirs[key];
        if (a === undefined && b === undefined) continue;
        const delta = a !== undefined && b !== undefined ? formatDelta(a, b) : '—';
        differs ||= delta !== '=';
        rows.push(h('tr', { class: delta === '=' ? 'metric' : 'metric differs' }, h('th', { scope: 'row', text: label }), h('td', { colspan: STAT_COLUMNS.length + 1, text: `${formatNum(a)} here · ${formatNum(b)} in the baseline · Δ ${delta}` })));
      }
    }
    const pairs = this.pairsOf(stop, mine, theirs, c);
    if (pairs === undefined) {
      const name = c.layers[stop.layer]?.name ?? `layer ${stop.layer}`;
      rows.push(h('tr', {}, h('td', { colspan: STAT_COLUMNS.length + 2, class: 'muted', text: `${name} is only in this run: not compared.` })));
    } else {
      for (const p of pairs) differs = this.pairRows(p, rows) || differs;
    }
    verdict.textContent = pairs === undefined ? '' : differs ? ' · differs' : ' · agrees';
    const body = h('tbody', { class: `compare-group${current ? ' current' : ''}${divergent ? ' divergent' : ''}${differs ? ' differs' : ''}`, 'data-stop': index });
    body.append(...rows);
    return body;
  }

  /** The tensors of one stop, this run's beside the baseline's; undefined when the layer has no counterpart. */
  private pairsOf(stop: PhaseStop, mine: StepRecord, theirs: StepRecord, c: CompareRun): Pair[] | undefined {
    const key = (s: TensorSummary) => `${s.role}|${s.param ?? ''}`;
    const pairsFor = (layer: number, other: number | undefined, roles: TensorRole[], prefix: string): Pair[] => {
      const here = mine.summaries.filter((s) => s.layer === layer && roles.includes(s.role));
      const there = other === undefined ? [] : theirs.summaries.filter((s) => s.layer === other && roles.includes(s.role));
      const out: Pair[] = here.map((s) => ({ label: prefix + roleSymbol(s.role, s.param), words: roleWords(s.role, s.param), mine: s, theirs: there.find((t) => key(t) === key(s)) }));
      for (const t of there) if (!here.some((s) => key(s) === key(t))) out.push({ label: prefix + roleSymbol(t.role, t.param), words: roleWords(t.role, t.param), theirs: t });
      return out;
    };
    if (stop.phase === 'loss') return pairsFor(-1, -1, [...ROLES_OF.forward, ...ROLES_OF.backward], '');
    if (stop.phase === 'update') {
      return c.layers.filter((l) => l.baselineIndex !== undefined).flatMap((l) => pairsFor(l.index, l.baselineIndex, ROLES_OF.update, `${l.name} `));
    }
    const other = c.layers[stop.layer]?.baselineIndex;
    if (other === undefined) return undefined;
    return pairsFor(stop.layer, other, ROLES_OF[stop.phase], '');
  }

  /** Three rows for one tensor: this run, the baseline, the difference. Returns whether they differ. */
  private pairRows(p: Pair, rows: HTMLElement[]): boolean {
    const a = p.mine?.stats;
    const b = p.theirs?.stats;
    const cells = (text: (i: number) => string) => STAT_COLUMNS.map((_, i) => h('td', { text: text(i) }));
    const deltas = STAT_COLUMNS.map((col) => (a && b ? (col.delta?.(a, b) ?? '—') : '—'));
    const differs = !a || !b || deltas.some((t) => t !== '=');
    const head = h('th', { scope: 'rowgroup', rowspan: 3, title: p.words, text: p.label });
    rows.push(
      h('tr', { class: 'mine' }, head, h('td', { class: 'run', text: 'this run' }), ...cells((i) => (a ? STAT_COLUMNS[i].format(a) : p.mine ? '—' : 'not captured'))),
      h('tr', { class: 'theirs' }, h('td', { class: 'run', text: 'baseline' }), ...cells((i) => (b ? STAT_COLUMNS[i].format(b) : p.theirs ? '—' : 'not captured'))),
      h('tr', { class: differs ? 'delta differs' : 'delta' }, h('td', { class: 'run', text: 'Δ' }), ...deltas.map((t) => h('td', { class: t === '=' ? 'same' : 'changed', text: t }))),
    );
    return differs;
  }
}
