// The selected sample: its input (a picture when it is 28×28 or any square image, numbers
// otherwise), its target, and the predicted distribution as bars with percentages.
import type { RunMeta, StepRecord } from '../src/shared/traceTypes';
import { context2d, h, setHidden, setText } from './dom';
import { formatNum, formatPercent } from '../src/shared/format';
import { findTensor, sampleRow, selectedSampleIndex } from './records';
import type { ModelKey, PanelModel, Store } from './state';
import type { Theme } from './theme';

const MAX_CLASSES_SHOWN = 12;
const MAX_NUMBERS_SHOWN = 32;

export class SampleView {
  readonly el: HTMLElement;
  private readonly image: HTMLCanvasElement;
  private readonly numbers: HTMLElement;
  private readonly target: HTMLElement;
  private readonly bars: HTMLElement;
  private readonly empty: HTMLElement;
  private rows: { row: HTMLElement; label: HTMLElement; fill: HTMLElement; value: HTMLElement }[] = [];

  constructor(
    private readonly store: Store,
    private theme: Theme,
  ) {
    this.image = h('canvas', { class: 'sample-image', width: 28, height: 28, role: 'img', 'aria-label': 'Input image' });
    this.numbers = h('code', { class: 'sample-numbers' });
    this.target = h('div', { class: 'sample-target', id: 'sample-target' });
    this.bars = h('ol', { class: 'bars', 'aria-label': 'Predicted distribution' });
    this.empty = h('p', { class: 'muted', text: 'No sample kept at this step.' });
    this.el = h(
      'section',
      { class: 'card sample', 'aria-labelledby': 'sample-title' },
      h('h2', { id: 'sample-title', text: 'Selected sample' }),
      this.empty,
      h('div', { class: 'sample-body' }, h('div', { class: 'sample-input' }, this.image, this.numbers), h('div', { class: 'sample-output' }, this.target, this.bars)),
    );
    store.subscribe((m, changed) => this.update(m, changed));
  }

  setTheme(theme: Theme): void {
    this.theme = theme;
    this.render(this.store.state.record, this.store.state.meta);
  }

  private update(m: Readonly<PanelModel>, changed: ReadonlySet<ModelKey>): void {
    if (changed.has('record') || changed.has('meta')) this.render(m.record, m.meta);
  }

  private render(record: StepRecord | undefined, meta: RunMeta | undefined): void {
    const sample = record?.samples?.[0];
    const input = findTensor(record, 0, 'input');
    setHidden(this.empty, !!(sample || input));
    this.renderInput(input ? sampleRow(input, selectedSampleIndex(record)) : undefined, meta);
    if (!sample) {
      setText(this.target, '');
      this.bars.replaceChildren();
      this.rows = [];
      return;
    }
    const names = meta?.classNames;
    const oneHot = sample.target.length > 1;
    const targetClass = oneHot ? argmax(sample.target) : -1;
    const predicted = sample.prediction.length > 1 ? argmax(sample.prediction) : -1;
    const className = (i: number) => (names?.[i] ? `${i} (${names[i]})` : String(i));
    const numbers = (values: number[]) => values.map((v) => formatNum(v)).join(', ');
    const target = oneHot ? className(targetClass) : numbers(sample.target);
    // A held step before its loss phase has the target, not yet the prediction.
    const outcome =
      sample.prediction.length === 0 ? 'prediction: not computed yet (the loss phase)'
      : oneHot ? (predicted === targetClass ? '✓ predicted correctly' : `✗ predicted ${className(predicted)}`)
      : `prediction: ${numbers(sample.prediction)}`;
    setText(this.target, `Sample #${sample.index} · target: ${target} · ${outcome}`);
    if (sample.prediction.length <= 1) {
      this.bars.replaceChildren();
      this.rows = [];
      return;
    }
    // Show the classes in order, or the most likely ones when there are many.
    const order = sample.prediction.map((p, i) => [p, i] as const);
    const shown = order.length <= MAX_CLASSES_SHOWN ? order : [...order].sort((a, b) => b[0] - a[0]).slice(0, MAX_CLASSES_SHOWN);
    this.ensureRows(shown.length);
    shown.forEach(([p, i], k) => {
      const r = this.rows[k];
      setText(r.label, className(i));
      setText(r.value, formatPercent(p));
      r.fill.style.width = `${Math.max(0, Math.min(1, p)) * 100}%`;
      r.row.classList.toggle('target', i === targetClass);
      r.row.classList.toggle('predicted', i === predicted);
      r.row.setAttribute('aria-label', `${className(i)}: ${formatPercent(p)}${i === targetClass ? ', target' : ''}${i === predicted ? ', predicted' : ''}`);
    });
  }

  private ensureRows(n: number): void {
    while (this.rows.length < n) {
      const label = h('span', { class: 'bar-label' });
      const fill = h('span', { class: 'bar-fill' });
      const value = h('span', { class: 'bar-value' });
      const row = h('li', { class: 'bar' }, label, h('span', { class: 'bar-track' }, fill), value);
      this.bars.append(row);
      this.rows.push({ row, label, fill, value });
    }
    while (this.rows.length > n) this.rows.pop()?.row.remove();
  }

  private renderInput(values: Float32Array | undefined, meta: RunMeta | undefined): void {
    const side = values ? imageSide(values.length, meta) : undefined;
    setHidden(this.image, !side);
    setHidden(this.numbers, !values || !!side);
    if (!values) return;
    if (!side) {
      const shown = Array.from(values.subarray(0, MAX_NUMBERS_SHOWN), (v) => formatNum(v)).join(', ');
      setText(this.numbers, `x = [${shown}${values.length > MAX_NUMBERS_SHOWN ? `, … (${values.length} values)` : ''}]`);
      return;
    }
    if (this.image.width !== side) {
      this.image.width = side;
      this.image.height = side;
    }
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < values.length; i++) {
      lo = Math.min(lo, values[i]);
      hi = Math.max(hi, values[i]);
    }
    const ctx = context2d(this.image);
    const img = ctx.createImageData(side, side);
    const lut = this.theme.sequential;
    for (let i = 0; i < side * side; i++) {
      const li = Math.round(((values[i] - lo) / (hi - lo || 1)) * 255) * 4;
      img.data.set([lut[li], lut[li + 1], lut[li + 2], 255], i * 4);
    }
    ctx.putImageData(img, 0, 0);
    this.image.setAttribute('aria-label', `Input image, ${side} × ${side} pixels, values ${formatNum(lo)} to ${formatNum(hi)}`);
  }
}

/** 28 for 784 values or an input shape [28, 28] / [28, 28, 1]; undefined when not a square picture. */
function imageSide(length: number, meta: RunMeta | undefined): number | undefined {
  const dims = (meta?.model.inputShape ?? []).filter((d): d is number => d !== null && d > 0);
  if (dims.length >= 2 && dims[0] === dims[1] && (dims.length === 2 || dims[2] === 1) && dims[0] * dims[1] === length) return dims[0];
  const s = Math.round(Math.sqrt(length));
  return s * s === length && s >= 8 ? s : undefined;
}

function argmax(v: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}
