// Loss (and accuracy, when the run has it) over the run's steps, with the current step marked;
// a click jumps there. A live run held past its loss phase shows that step's loss as an open
// point: the step is not in the trace yet, but the learner has just been told its loss. While the
// panel compares runs, the baseline's curves are a second series on the same axes (dashed, in the
// same colours). The curves are drawn once into a back buffer when the data, size, theme or held
// point change; a step change only copies the buffer and draws the marker.
import type { StepIndexEntry } from '../src/shared/traceTypes';
import { context2d, fitCanvas, h, setText } from './dom';
import { formatInt, formatNum } from '../src/shared/format';
import type { ModelKey, PanelModel, Store } from './state';
import type { Theme } from './theme';

const HEIGHT = 170;
const PAD = { left: 44, right: 40, top: 10, bottom: 20 };

export class LossChart {
  readonly el: HTMLElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly back = document.createElement('canvas');
  private readonly readout: HTMLElement;
  private readonly legend: HTMLElement;
  private readonly title: HTMLElement;
  private width = 0;
  private lossRange: [number, number] = [0, 1];
  private hasAccuracy = false;
  /** The held point the back buffer was drawn with ('' for none): redraw only when it changes. */
  private drawnHeld = '';
  /** The x axis's steps as last drawn: whatever changes them redraws the curves (update). */
  private xDomain: [number, number] = [0, 0];

  constructor(
    private readonly store: Store,
    private theme: Theme,
    private readonly jump: (step: number) => void,
  ) {
    this.canvas = h('canvas', { class: 'loss-canvas', role: 'img', 'aria-label': 'Loss curve' });
    this.readout = h('div', { class: 'readout', 'aria-hidden': 'true' });
    this.legend = h('div', { class: 'legend' });
    this.title = h('h2', { id: 'loss-title', text: 'Loss over steps' });
    this.el = h('section', { class: 'card loss-chart', 'aria-labelledby': 'loss-title' }, this.title, this.legend, this.canvas, this.readout);
    this.canvas.addEventListener('click', (e) => {
      const step = this.stepAt(e.offsetX);
      if (step !== undefined) this.jump(step);
    });
    this.canvas.addEventListener('mousemove', (e) => {
      const step = this.stepAt(e.offsetX);
      const held = this.heldPoint();
      const recorded = step === undefined ? undefined : nearest(this.store.state.curve, step);
      const entry = step !== undefined && held && (!recorded || Math.abs(held.step - step) < Math.abs(recorded.step - step)) ? held : recorded;
      const base = step === undefined ? undefined : nearest(this.store.state.compare?.baselineCurve ?? [], step);
      const baseText = base && base.step === entry?.step ? ` · baseline loss ${formatNum(base.loss)}${base.accuracy !== null ? `, accuracy ${formatNum(base.accuracy)}` : ''}` : '';
      const inProgress = entry === held ? ' (in progress)' : '';
      setText(this.readout, entry ? `step ${formatInt(entry.step)}${inProgress} · loss ${formatNum(entry.loss)}${entry.accuracy !== null ? ` · accuracy ${formatNum(entry.accuracy)}` : ''}${baseText}` : '');
    });
    this.canvas.addEventListener('mouseleave', () => setText(this.readout, ''));
    new ResizeObserver(() => {
      const w = this.canvas.clientWidth;
      if (w > 0 && w !== this.width) {
        this.width = w;
        this.redrawAll();
      }
    }).observe(this.el);
    store.subscribe((m, changed) => this.update(m, changed));
  }

  setTheme(theme: Theme): void {
    this.theme = theme;
    this.redrawAll();
  }

  private update(m: Readonly<PanelModel>, changed: ReadonlySet<ModelKey>): void {
    if (changed.has('curve') || changed.has('stepCount') || changed.has('compare') || heldKey(this.heldPoint()) !== this.drawnHeld) this.redrawAll();
    else if (changed.has('step')) this.drawMarker();
  }

  /** The held step with its loss, once the runner has computed it; undefined otherwise. */
  private heldPoint(): StepIndexEntry | undefined {
    const step = this.store.heldStep();
    const loss = this.store.state.atPhase?.record?.loss;
    if (step === undefined || loss === undefined || !Number.isFinite(loss)) return undefined;
    return { step, loss, accuracy: null, testAccuracy: null };
  }

  private redrawAll(): void {
    const w = this.width || this.canvas.clientWidth || this.el.clientWidth || 300;
    fitCanvas(this.canvas, w, HEIGHT);
    this.back.width = this.canvas.width;
    this.back.height = this.canvas.height;
    this.drawCurves(w);
    this.drawMarker();
  }

  /** The steps on the x axis: this run's (with its held step), and the baseline's too while comparing. */
  private domain(): [number, number] {
    const ends: number[] = this.store.state.stepCount > 0 ? this.store.stepRange() : [];
    const held = this.heldPoint();
    if (held) ends.push(held.step);
    const base = this.store.state.compare?.baselineCurve;
    if (base && base.length > 0) ends.push(base[0].step, base[base.length - 1].step);
    return ends.length > 0 ? [Math.min(...ends), Math.max(...ends)] : this.store.stepRange();
  }

  private x(step: number): number {
    const [first, last] = this.xDomain;
    const w = this.cssWidth() - PAD.left - PAD.right;
    return PAD.left + (last > first ? ((step - first) / (last - first)) * w : w / 2);
  }

  /** CSS width, kept by the ResizeObserver (no layout reads while redrawing). */
  private cssWidth(): number {
    return this.width || this.canvas.clientWidth || 1;
  }

  private yLoss(loss: number): number {
    const [lo, hi] = this.lossRange;
    const hgt = HEIGHT - PAD.top - PAD.bottom;
    return PAD.top + (1 - (loss - lo) / (hi - lo || 1)) * hgt;
  }

  private yAcc(acc: number): number {
    return PAD.top + (1 - acc) * (HEIGHT - PAD.top - PAD.bottom);
  }

  private stepAt(offsetX: number): number | undefined {
    const [first, last] = this.xDomain;
    if (this.store.state.stepCount === 0 && !this.heldPoint()) return undefined;
    const w = this.cssWidth() - PAD.left - PAD.right;
    const t = Math.max(0, Math.min(1, (offsetX - PAD.left) / (w || 1)));
    return Math.round(first + t * (last - first));
  }

  private drawCurves(w: number): void {
    const curve = this.store.state.curve;
    const baseline = this.store.state.compare?.baselineCurve ?? [];
    const t = this.theme;
    const ctx = context2d(this.back);
    const dpr = this.back.width / Math.max(1, w);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, HEIGHT);
    const held = this.heldPoint();
    this.drawnHeld = heldKey(held);
    this.xDomain = this.domain();
    let lo = Infinity;
    let hi = -Infinity;
    this.hasAccuracy = false;
    for (const e of [...curve, ...baseline, ...(held ? [held] : [])]) {
      if (Number.isFinite(e.loss)) {
        lo = Math.min(lo, e.loss);
        hi = Math.max(hi, e.loss);
      }
      if (e.accuracy !== null || e.testAccuracy !== null) this.hasAccuracy = true;
    }
    if (!Number.isFinite(lo)) [lo, hi] = [0, 1];
    lo = Math.min(0, lo);
    this.lossRange = [lo, hi + (hi - lo) * 0.05 || 1];
    const bottom = HEIGHT - PAD.bottom;
    // Axes and labels.
    ctx.strokeStyle = t.border;
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(PAD.left, PAD.top);
    ctx.lineTo(PAD.left, bottom);
    ctx.lineTo(w - PAD.right, bottom);
    ctx.stroke();
    ctx.font = t.font;
    ctx.fillStyle = t.muted;
    if (curve.length === 0 && baseline.length === 0 && !held) {
      // Nothing to scale the axes by: say when points come instead of numbering an empty range.
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      ctx.fillText(EMPTY_WORDS, (PAD.left + w - PAD.right) / 2, (PAD.top + bottom) / 2);
      this.canvas.setAttribute('aria-label', `Loss curve, empty. ${EMPTY_WORDS}.`);
      return;
    }
    ctx.textBaseline = 'middle';
    ctx.textAlign = 'right';
    ctx.fillText(formatNum(this.lossRange[1]), PAD.left - 4, PAD.top + 4);
    ctx.fillText(formatNum(this.lossRange[0]), PAD.left - 4, bottom);
    const [first, last] = this.xDomain;
    ctx.textBaseline = 'top';
    ctx.textAlign = 'left';
    ctx.fillText(formatInt(first), PAD.left, bottom + 4);
    ctx.textAlign = 'right';
    ctx.fillText(formatInt(last), w - PAD.right, bottom + 4);
    if (this.hasAccuracy) {
      ctx.textAlign = 'left';
      ctx.textBaseline = 'middle';
      ctx.fillText('1', w - PAD.right + 4, PAD.top + 4);
      ctx.fillText('0', w - PAD.right + 4, bottom);
    }
    const line = (points: readonly StepIndexEntry[], color: string, y: (e: StepIndexEntry) => number | null, dashed = false) => {
      ctx.strokeStyle = color;
      ctx.lineWidth = 1.5;
      ctx.setLineDash(dashed ? [5, 3] : []);
      ctx.beginPath();
      let pen = false;
      for (const e of points) {
        const v = y(e);
        if (v === null || !Number.isFinite(v)) {
          pen = false;
          continue;
        }
        if (pen) ctx.lineTo(this.x(e.step), v);
        else ctx.moveTo(this.x(e.step), v);
        pen = true;
      }
      ctx.stroke();
      ctx.setLineDash([]);
    };
    const accuracy = (e: StepIndexEntry) => (e.accuracy === null ? null : this.yAcc(e.accuracy));
    const loss = (e: StepIndexEntry) => this.yLoss(e.loss);
    // The baseline first, so this run's curves are drawn over it where they coincide.
    if (baseline.length > 0) {
      if (this.hasAccuracy) line(baseline, t.accuracyColor, accuracy, true);
      line(baseline, t.lossColor, loss, true);
      ctx.strokeStyle = t.testColor;
      for (const e of baseline) if (e.testAccuracy !== null) ctx.strokeRect(this.x(e.step) - 2, this.yAcc(e.testAccuracy) - 2, 4, 4);
    }
    if (this.hasAccuracy) line(curve, t.accuracyColor, accuracy);
    line(curve, t.lossColor, loss);
    ctx.fillStyle = t.testColor;
    for (const e of curve) if (e.testAccuracy !== null) ctx.fillRect(this.x(e.step) - 2, this.yAcc(e.testAccuracy) - 2, 4, 4);
    if (held) {
      // Open: computed, not yet recorded.
      ctx.strokeStyle = t.lossColor;
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      ctx.arc(this.x(held.step), this.yLoss(held.loss), 4, 0, Math.PI * 2);
      ctx.stroke();
    }
    this.legend.replaceChildren(
      h('span', { class: 'swatch loss-swatch' }), ' loss',
      ...(this.hasAccuracy ? [h('span', { class: 'swatch acc-swatch' }), ' accuracy (right axis, 0–1)'] : []),
      ...(curve.some((e) => e.testAccuracy !== null) ? [h('span', { class: 'swatch test-swatch' }), ' test accuracy'] : []),
      ...(baseline.length > 0 ? [h('span', { class: 'swatch baseline-swatch', id: 'baseline-legend' }), ' baseline (dashed)'] : []),
    );
    setText(this.title, baseline.length > 0 ? 'Loss over steps: this run and the baseline' : 'Loss over steps');
    const heldWords = held ? ` Step ${formatInt(held.step)} (in progress): loss ${formatNum(held.loss)}.` : '';
    if (curve.length === 0) {
      this.canvas.setAttribute('aria-label', `Loss curve: no step recorded yet.${heldWords}`);
      return;
    }
    const firstE = curve[0];
    const lastE = curve[curve.length - 1];
    const baseWords = baseline.length > 0 ? ` The baseline's, dashed: from ${formatNum(baseline[0].loss)} to ${formatNum(baseline[baseline.length - 1].loss)}.` : '';
    this.canvas.setAttribute('aria-label', `Loss curve over ${formatInt(this.store.state.stepCount)} steps: from ${formatNum(firstE.loss)} at step ${formatInt(firstE.step)} to ${formatNum(lastE.loss)} at step ${formatInt(lastE.step)}.${heldWords}${baseWords} Click to jump to a step.`);
  }

  private drawMarker(): void {
    const ctx = context2d(this.canvas);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    ctx.drawImage(this.back, 0, 0);
    const m = this.store.state;
    const held = this.heldPoint();
    if (m.stepCount === 0 && !held) return;
    const w = this.cssWidth();
    const dpr = this.canvas.width / w;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const x = this.x(m.step);
    ctx.strokeStyle = this.theme.focus;
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(x, PAD.top);
    ctx.lineTo(x, HEIGHT - PAD.bottom);
    ctx.stroke();
    // A step past the recorded ones has no curve point: its dot is the held step's computed loss, or none.
    const entry = held?.step === m.step ? held : m.step <= this.store.lastRecordedStep() ? nearest(m.curve, m.step) : undefined;
    if (entry && Number.isFinite(entry.loss)) {
      ctx.fillStyle = this.theme.lossColor;
      ctx.beginPath();
      ctx.arc(x, this.yLoss(entry.loss), 3.5, 0, Math.PI * 2);
      ctx.fill();
    }
  }
}

const EMPTY_WORDS = 'Each step’s loss appears here once its loss phase has run';

function heldKey(held: StepIndexEntry | undefined): string {
  return held ? `${held.step}:${held.loss}` : '';
}

/** The curve point closest to `step` (the curve may be downsampled): binary search. */
function nearest(curve: readonly StepIndexEntry[], step: number): StepIndexEntry | undefined {
  if (curve.length === 0) return undefined;
  let lo = 0;
  let hi = curve.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (curve[mid].step < step) lo = mid + 1;
    else hi = mid;
  }
  if (lo > 0 && Math.abs(curve[lo - 1].step - step) < Math.abs(curve[lo].step - step)) return curve[lo - 1];
  return curve[lo];
}
