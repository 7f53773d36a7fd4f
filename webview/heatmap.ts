// A heatmap of a weight matrix (or its gradient): one pixel per weight, blue negative, orange
// positive, on a symmetric scale, drawn at the matrix's own size into an offscreen canvas and
// scaled to the box. Hovering reads a weight out as text.
import type { TensorValues } from '../src/shared/traceTypes';
import { context2d, fitCanvas, h, setText } from './dom';
import { formatNum } from '../src/shared/format';
import { divergingIndex, type Theme } from './theme';

const HEIGHT = 150;

export class Heatmap {
  readonly el: HTMLElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly caption: HTMLElement;
  private readonly readout: HTMLElement;
  private readonly image = document.createElement('canvas');
  private tensor: TensorValues | undefined;
  private scale = 0;
  /** Rows × columns as drawn: the longer dimension runs across. */
  private rows = 0;
  private cols = 0;
  private transposed = false;
  /** CSS width, kept by a ResizeObserver (no layout reads while redrawing). */
  private width = 0;

  constructor(
    readonly title: string,
    private theme: Theme,
  ) {
    this.canvas = h('canvas', { class: 'heatmap-canvas', role: 'img', 'aria-label': `${title}: not kept at this step` });
    this.caption = h('div', { class: 'muted heatmap-caption' });
    this.readout = h('div', { class: 'readout', 'aria-hidden': 'true' });
    this.el = h('figure', { class: 'heatmap' }, h('figcaption', { text: title }), this.canvas, this.caption, this.readout);
    this.canvas.addEventListener('mousemove', (e) => this.hover(e.offsetX, e.offsetY));
    this.canvas.addEventListener('mouseleave', () => setText(this.readout, ''));
    new ResizeObserver((entries) => {
      const w = Math.round(entries[entries.length - 1].contentRect.width);
      if (w > 0 && w !== this.width) {
        this.width = w;
        fitCanvas(this.canvas, w, HEIGHT);
        const ctx = context2d(this.canvas);
        ctx.setTransform(1, 0, 0, 1, 0, 0);
        ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
        if (this.tensor) this.blit(ctx);
      }
    }).observe(this.canvas);
  }

  setTheme(theme: Theme): void {
    this.theme = theme;
    const t = this.tensor;
    this.tensor = undefined;
    this.set(t, this.note);
  }

  private note = '';

  /** Show `tensor` (a 2-D parameter, or a 1-D one drawn as a row); `note` says which step it is from. */
  set(tensor: TensorValues | undefined, note: string): void {
    if (tensor === this.tensor && note === this.note) return;
    this.note = note;
    const w = this.width || this.canvas.clientWidth || 300;
    fitCanvas(this.canvas, w, HEIGHT);
    const ctx = context2d(this.canvas);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    if (tensor === this.tensor) {
      this.blit(ctx);
      setText(this.caption, this.describe());
      return;
    }
    this.tensor = tensor;
    if (!tensor) {
      setText(this.caption, note);
      this.canvas.setAttribute('aria-label', `${this.title}: ${note}`);
      return;
    }
    // A parameter as a matrix: all dimensions but the last down, the last across (a dense
    // kernel [in, out] as it is; a conv kernel [h, w, in, out] as one column per filter).
    const last = tensor.shape[tensor.shape.length - 1] || 1;
    const [r0, c0] = tensor.shape.length >= 2 ? [tensor.values.length / last, last] : [1, tensor.values.length];
    // Draw the longer dimension across: 784 inputs × 256 units reads as 256 rows of 784.
    this.transposed = r0 > c0;
    this.rows = this.transposed ? c0 : r0;
    this.cols = this.transposed ? r0 : c0;
    const v = tensor.values;
    let m = 0;
    for (let i = 0; i < v.length; i++) {
      const a = Math.abs(v[i]);
      if (a > m && Number.isFinite(a)) m = a;
    }
    this.scale = m;
    this.image.width = Math.max(1, this.cols);
    this.image.height = Math.max(1, this.rows);
    const ictx = context2d(this.image);
    const img = ictx.createImageData(this.image.width, this.image.height);
    const lut = this.theme.diverging;
    const d = img.data;
    for (let r = 0; r < this.rows; r++) {
      for (let c = 0; c < this.cols; c++) {
        const value = this.transposed ? v[c * c0 + r] : v[r * c0 + c];
        const li = divergingIndex(value, m) * 4;
        const o = (r * this.cols + c) * 4;
        d[o] = lut[li];
        d[o + 1] = lut[li + 1];
        d[o + 2] = lut[li + 2];
        d[o + 3] = 255;
      }
    }
    ictx.putImageData(img, 0, 0);
    this.blit(ctx);
    const text = this.describe();
    setText(this.caption, text);
    this.canvas.setAttribute('aria-label', `${this.title}: ${text}`);
  }

  private describe(): string {
    const t = this.tensor;
    if (!t) return this.note;
    return `${t.shape.join(' × ')} · scale ±${formatNum(this.scale)} (blue −, orange +) · ${this.note}`;
  }

  private blit(ctx: CanvasRenderingContext2D): void {
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(this.image, 0, 0, this.canvas.width, this.canvas.height);
  }

  private hover(x: number, y: number): void {
    const t = this.tensor;
    if (!t) return;
    const c = Math.floor((x / (this.canvas.clientWidth || 1)) * this.cols);
    const r = Math.floor((y / (this.canvas.clientHeight || 1)) * this.rows);
    if (r < 0 || c < 0 || r >= this.rows || c >= this.cols) return;
    const [i, j] = this.transposed ? [c, r] : [r, c];
    const width = t.shape.length >= 2 ? t.shape[t.shape.length - 1] || 1 : t.values.length;
    setText(this.readout, `[${i}, ${j}] = ${formatNum(t.values[i * width + j])}`);
  }
}
