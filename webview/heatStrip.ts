// A heat strip: one tensor's histogram at every (downsampled) step, side by side, like
// TensorBoard's distributions. x is the step, y the value, brightness how many elements fell
// there. Drawn into an ImageData the size of the data and scaled up, so it costs the same for
// 30 steps and for 100,000.
import type { HistorySeries } from '../src/shared/protocol';
import { context2d, fitCanvas, h, setText } from './dom';
import { formatInt, formatNum } from '../src/shared/format';
import type { Theme } from './theme';

const HEIGHT = 64;
const ROWS = 64;

export class HeatStrip {
  readonly el: HTMLElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly caption: HTMLElement;
  private readonly heading: HTMLElement;
  private readonly image = document.createElement('canvas');
  private series: HistorySeries | undefined;
  private yRange: [number, number] = [0, 1];
  /** CSS width, kept by a ResizeObserver: reading layout while redrawing would force a reflow. */
  private width = 0;
  private step = 0;

  constructor(
    private title: string,
    private theme: Theme,
    private readonly jump: (step: number) => void,
  ) {
    this.canvas = h('canvas', { class: 'strip-canvas', role: 'img', 'aria-label': `${title}: no data yet` });
    this.caption = h('div', { class: 'strip-caption muted', text: 'waiting for history…' });
    this.heading = h('figcaption', { text: title });
    this.el = h('figure', { class: 'strip' }, this.heading, this.canvas, this.caption);
    new ResizeObserver((entries) => {
      const w = Math.round(entries[entries.length - 1].contentRect.width);
      if (w > 0 && w !== this.width) {
        this.width = w;
        this.mark(this.step);
      }
    }).observe(this.canvas);
    this.canvas.addEventListener('click', (e) => {
      const s = this.series;
      if (!s || s.steps.length === 0) return;
      const i = Math.floor((e.offsetX / (this.canvas.clientWidth || 1)) * s.steps.length);
      this.jump(s.steps[Math.max(0, Math.min(s.steps.length - 1, i))]);
    });
  }

  setTheme(theme: Theme): void {
    this.theme = theme;
    this.render();
  }

  /** The strip's heading (it names the selected layer's main parameter). */
  setTitle(title: string): void {
    this.title = title;
    setText(this.heading, title);
  }

  setSeries(series: HistorySeries | undefined): void {
    if (series === this.series) return;
    this.series = series;
    this.render();
  }

  /** Draw the current step's marker over the cached image. */
  mark(step: number): void {
    this.step = step;
    const w = this.width || this.canvas.clientWidth || 200;
    fitCanvas(this.canvas, w, HEIGHT);
    const ctx = context2d(this.canvas);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    const s = this.series;
    if (!s || s.steps.length === 0) return;
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(this.image, 0, 0, this.canvas.width, this.canvas.height);
    const first = s.steps[0];
    const last = s.steps[s.steps.length - 1];
    const colW = this.canvas.width / s.steps.length;
    const x = last > first ? ((step - first) / (last - first)) * (this.canvas.width - colW) + colW / 2 : this.canvas.width / 2;
    ctx.strokeStyle = this.theme.focus;
    ctx.lineWidth = Math.max(1, window.devicePixelRatio || 1);
    ctx.beginPath();
    ctx.moveTo(x, 0);
    ctx.lineTo(x, this.canvas.height);
    ctx.stroke();
    // Zero line, when zero is inside the range.
    const [lo, hi] = this.yRange;
    if (lo < 0 && hi > 0) {
      const y = (hi / (hi - lo)) * this.canvas.height;
      ctx.strokeStyle = this.theme.muted;
      ctx.globalAlpha = 0.5;
      ctx.setLineDash([2, 3]);
      ctx.beginPath();
      ctx.moveTo(0, y);
      ctx.lineTo(this.canvas.width, y);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.globalAlpha = 1;
    }
  }

  private render(): void {
    const s = this.series;
    if (!s || s.steps.length === 0) {
      setText(this.caption, s ? 'not recorded for this layer' : 'waiting for history…');
      this.mark(0);
      return;
    }
    let lo = Infinity;
    let hi = -Infinity;
    for (const [a, b] of s.ranges) {
      if (Number.isFinite(a)) lo = Math.min(lo, a);
      if (Number.isFinite(b)) hi = Math.max(hi, b);
    }
    if (!(hi > lo)) [lo, hi] = [lo - 1 || -1, hi + 1 || 1];
    this.yRange = [lo, hi];
    const cols = s.steps.length;
    this.image.width = cols;
    this.image.height = ROWS;
    const ctx = context2d(this.image);
    const img = ctx.createImageData(cols, ROWS);
    const lut = this.theme.sequential;
    const column = new Float32Array(ROWS);
    for (let c = 0; c < cols; c++) {
      const [a, b] = s.ranges[c] ?? [0, 0];
      const hist = s.histograms[c] ?? [];
      column.fill(0);
      const bins = hist.length;
      // Spread each bin's count over the output rows its value interval covers.
      for (let k = 0; k < bins; k++) {
        const count = hist[k];
        if (!count) continue;
        const v0 = a + ((b - a) * k) / bins;
        const v1 = a + ((b - a) * (k + 1)) / bins;
        const r0 = Math.floor(((hi - v1) / (hi - lo)) * ROWS);
        const r1 = Math.max(r0, Math.ceil(((hi - v0) / (hi - lo)) * ROWS) - 1);
        const share = count / (r1 - r0 + 1);
        for (let r = Math.max(0, r0); r <= Math.min(ROWS - 1, r1); r++) column[r] += share;
      }
      let max = 0;
      for (let r = 0; r < ROWS; r++) if (column[r] > max) max = column[r];
      for (let r = 0; r < ROWS; r++) {
        const li = max > 0 ? Math.round((column[r] / max) * 255) : 0;
        const o = (r * cols + c) * 4;
        img.data[o] = lut[li * 4];
        img.data[o + 1] = lut[li * 4 + 1];
        img.data[o + 2] = lut[li * 4 + 2];
        img.data[o + 3] = 255;
      }
    }
    ctx.putImageData(img, 0, 0);
    const text = `values ${formatNum(lo)} … ${formatNum(hi)} over steps ${formatInt(s.steps[0])}–${formatInt(s.steps[cols - 1])} (${formatInt(cols)} columns)`;
    setText(this.caption, text);
    this.canvas.setAttribute('aria-label', `${this.title}: ${text}. Click to jump to a step.`);
  }
}
