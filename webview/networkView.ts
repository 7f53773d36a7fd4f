// The network diagram: the input and every layer as a block (a column of units when the layer
// is small, a compact grid of cells when it is large), edges between them, and a loss node. A
// functional model (its summary has a graph) is drawn as its graph: inputs and nodes in columns
// by rank (graphLayout.ts), one SVG path per edge, the edges the phase crosses highlighted.
// Colour shows the current phase's values for the selected sample (activations going forward,
// gradients coming back, updates at the end); where no per-unit values were kept, the block
// shows the tensor's histogram instead. One canvas, redrawn whole (it is small); one
// transparent button per block on top of it carries hover, focus, click and the labels.
import { layerHealthOf, type HealthFlag } from '../src/shared/health';
import type { PhaseStop } from '../src/shared/phases';
import type { LayerInfo, StepRecord, TensorRole, TensorSummary } from '../src/shared/traceTypes';
import { context2d, fitCanvas, h } from './dom';
import { formatInt, formatNum, formatShape, roleSymbol, unitsOf } from '../src/shared/format';
import { findSummary, findTensor, sampleRow, selectedSampleIndex } from './records';
import type { ModelKey, PanelModel, Store } from './state';
import { divergingIndex, lutColor, type Theme } from './theme';
import { layerTooltip, type Tooltip } from './tooltip';
import { graphColumns } from './graphLayout';
import { GraphEdges, type EdgeEnds } from './graphEdges';

const HEIGHT = 250;
/** Height of one box and its caption in a graph's column. */
const GRAPH_SLOT = 150;
const CAPTION = 46;
const UNITS_MAX = 32;
/** Largest layer drawn value by value (one pixel each); larger ones show their histogram. */
const CELLS_MAX = 65_536;

interface NodeLayout {
  /** The layer's position in meta.model.layers; an input is −1 − its index (−1 for a model's only input). */
  layer: number;
  /** Top of the caption under the block. */
  captionY: number;
  units: number;
  mode: 'units' | 'grid';
  cols: number;
  rows: number;
  x: number;
  y: number;
  w: number;
  h: number;
  cx: number;
  /** Grid mode: for each pixel, the index of the value it shows (-1: a gap); none for units mode. */
  map: Int32Array | undefined;
  /** Units mode: radius and centre y of each unit. */
  r: number;
  unitY: number[];
}

interface NodeValues {
  role: TensorRole;
  param?: string;
  values?: Float32Array;
  summary?: TensorSummary;
  /** This node is what the current phase is about. */
  active: boolean;
  /** The phase has not reached this node yet (forward) or it shows older values (backward). */
  faded: boolean;
}

export interface NetworkActions {
  select(layer: number): void;
}

export class NetworkView {
  readonly el: HTMLElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly hits: HTMLElement;
  private buttons: HTMLButtonElement[] = [];
  private layout: NodeLayout[] = [];
  private lossBox = { x: 0, y: 0, w: 0, h: 0 };
  /** Width of one column of the diagram (a block and its caption), in CSS pixels. */
  private columnWidth = Infinity;
  private width = 0;
  /** The box under the pointer or focus, by NodeLayout.layer. */
  private hovered: number | undefined;
  private height = HEIGHT;
  private readonly edges = new GraphEdges();
  private readonly cells = new Map<number, HTMLCanvasElement>();
  /** Health flags per layer at the shown step (recomputed when the record changes). */
  private flags: HealthFlag[][] = [];

  constructor(
    private readonly store: Store,
    private readonly tooltip: Tooltip,
    private theme: Theme,
    private readonly actions: NetworkActions,
  ) {
    this.canvas = h('canvas', { class: 'network-canvas', 'aria-hidden': 'true' });
    this.hits = h('div', { class: 'network-hits', role: 'group', 'aria-label': 'Layers' });
    this.el = h('section', { class: 'network', 'aria-label': 'Network diagram' }, this.edges.el, this.canvas, this.hits);
    new ResizeObserver(() => this.resize()).observe(this.el);
    store.subscribe((model, changed) => this.update(model, changed));
  }

  setTheme(theme: Theme): void {
    this.theme = theme;
    this.draw();
  }

  private update(model: Readonly<PanelModel>, changed: ReadonlySet<ModelKey>): void {
    if (changed.has('meta')) this.relayout();
    if (changed.has('meta') || changed.has('record') || changed.has('error')) this.updateHealth();
    if (changed.has('meta') || changed.has('record') || changed.has('phaseIndex') || changed.has('selectedLayer') || changed.has('step') || changed.has('error')) {
      this.draw();
      this.refreshTooltip();
    }
    if (changed.has('selectedLayer') || changed.has('meta')) {
      this.buttons.forEach((b, i) => b.setAttribute('aria-pressed', String(this.layout[i]?.layer === model.selectedLayer)));
    }
  }

  private resize(): void {
    const w = this.el.clientWidth;
    if (w === this.width || w === 0) return;
    this.width = w;
    this.relayout();
    this.draw();
  }

  private relayout(): void {
    const meta = this.store.state.meta;
    const W = this.width || this.el.clientWidth || 600;
    const graph = meta?.model.graph;
    const columns = graph ? graphColumns(graph, meta.model.layers.length) : undefined;
    this.height = columns ? Math.max(HEIGHT, columns.tallest * GRAPH_SLOT) : HEIGHT;
    fitCanvas(this.canvas, W, this.height);
    this.canvas.style.width = `${W}px`;
    if (!meta) {
      this.layout = [];
      this.edges.clear();
      this.buildButtons();
      return;
    }
    const layers = meta.model.layers;
    const inputShape = (layer: number) => (graph ? graph.inputs[-1 - layer]?.shape ?? [] : meta.model.inputShape);
    const shapeOf = (layer: number) => (layer < 0 ? inputShape(layer) : layers[layer].outputShape);
    // Chain: one column per layer, one row. Graph: columns by rank, each split into slots.
    const placed: { layer: number; column: number; slot: number; slots: number }[] = columns
      ? columns.columns.flatMap((col, c) => col.map((item, k) => ({ layer: item.kind === 'input' ? -1 - item.index : item.index, column: c, slot: k, slots: col.length })))
      : [-1, ...layers.map((_, i) => i)].map((layer, i) => ({ layer, column: i, slot: 0, slots: 1 }));
    const columnCount = (columns ? columns.columns.length : placed.length) + 1; // + the loss node
    const colW = W / columnCount;
    this.columnWidth = colW;
    this.layout = placed.map((p) => {
      const slotH = this.height / p.slots;
      const top = p.slot * slotH;
      const units = unitsOf(shapeOf(p.layer));
      const usableH = slotH - CAPTION - 16;
      const cx = colW * (p.column + 0.5);
      const captionY = top + slotH - CAPTION;
      if (units <= UNITS_MAX) {
        const r = Math.max(2, Math.min(8, usableH / (units * 2.5)));
        const colH = units * r * 2.5;
        const y0 = top + 8 + (usableH - colH) / 2;
        const unitY = Array.from({ length: units }, (_, k) => y0 + r * 1.25 + k * r * 2.5);
        const w = r * 2 + 8;
        return { layer: p.layer, captionY, units, mode: 'units', cols: 1, rows: units, map: undefined, x: cx - w / 2, y: y0 - 4, w, h: colH + 8, cx, r, unitY };
      }
      const side = Math.max(24, Math.min(colW * 0.6, usableH, 120));
      const { cols, rows, map } = pixelLayout(shapeOf(p.layer), units);
      const aspect = rows / cols;
      const bw = aspect > 1 ? side / aspect : side;
      const bh = aspect > 1 ? side : side * aspect;
      const y = top + 8 + (usableH - bh) / 2;
      return { layer: p.layer, captionY, units, mode: 'grid', cols, rows, map, x: cx - bw / 2, y, w: bw, h: bh, cx, r: 0, unitY: [] };
    });
    const lw = Math.min(colW * 0.6, 70);
    const usableH = this.height - CAPTION - 16;
    this.lossBox = { x: colW * (columnCount - 0.5) - lw / 2, y: 8 + usableH / 2 - 18, w: lw, h: 36 };
    this.layoutEdges();
    this.buildButtons();
  }

  /** A graph's edges as SVG paths (a chain's are drawn on the canvas). */
  private layoutEdges(): void {
    const meta = this.store.state.meta;
    const graph = meta?.model.graph;
    if (!graph) {
      this.edges.clear();
      return;
    }
    const box = new Map(this.layout.map((n) => [n.layer, n]));
    const right = (n: NodeLayout) => ({ x: n.x + n.w + 2, y: n.y + n.h / 2 });
    const left = (n: NodeLayout) => ({ x: n.x - 2, y: n.y + n.h / 2 });
    const ends: EdgeEnds[] = graph.edges.flatMap((e) => {
      const from = box.get(e.fromInput ? -1 - e.from : e.from);
      const to = box.get(e.to);
      return from && to ? [{ from: e.fromInput ? -1 - e.from : e.from, to: e.to, a: right(from), b: left(to) }] : [];
    });
    const lb = this.lossBox;
    for (const o of graph.outputs) {
      const from = box.get(o.node);
      if (from) ends.push({ from: o.node, to: 'loss', a: right(from), b: { x: lb.x, y: lb.y + lb.h / 2 } });
    }
    this.edges.layout(ends, this.width || this.el.clientWidth || 600, this.height);
  }

  private buildButtons(): void {
    const meta = this.store.state.meta;
    this.buttons = this.layout.map((n) => {
      const layer = n.layer >= 0 ? meta?.model.layers[n.layer] : undefined;
      const input = this.inputOf(n.layer);
      const label = layer
        ? `Layer ${layer.name}, ${layer.type}, output ${formatShape(layer.outputShape)}, ${formatInt(layer.paramCount)} parameters`
        : `Input${input.name ? ` ${input.name}` : ''}, shape ${formatShape(input.shape)}`;
      const b = h('button', { class: 'layer-hit', type: 'button', 'aria-label': label, 'aria-describedby': 'tooltip', 'data-layer': n.layer });
      if (layer) b.dataset.name = layer.name;
      b.style.left = `${n.x - 6}px`;
      b.style.top = `${n.y - 6}px`;
      b.style.width = `${n.w + 12}px`;
      b.style.height = `${n.h + 12 + CAPTION}px`;
      const show = () => {
        this.hovered = n.layer;
        this.tooltip.show(b, this.tooltipFor(n.layer));
      };
      const hide = () => {
        if (this.hovered === n.layer) this.hovered = undefined;
        this.tooltip.hide(b);
      };
      b.addEventListener('mouseenter', show);
      b.addEventListener('focus', show);
      b.addEventListener('mouseleave', hide);
      b.addEventListener('blur', hide);
      b.addEventListener('click', () => {
        if (n.layer >= 0) this.actions.select(n.layer);
      });
      return b;
    });
    this.hits.replaceChildren(...this.buttons);
    this.updateHealth();
  }

  /** Which layers are unhealthy at this step (or where the run's non-finite error points). */
  private updateHealth(): void {
    const { meta, record, error } = this.store.state;
    const layers = meta?.model.layers ?? [];
    this.flags = record ? layers.map((l) => layerHealthOf(record, layers, l.index)?.flags ?? []) : layers.map(() => []);
    if (error?.layer !== undefined && error.layer >= 0 && error.layer < layers.length && !this.flags[error.layer]?.includes('non-finite')) {
      this.flags[error.layer] = [...(this.flags[error.layer] ?? []), 'non-finite'];
    }
    this.buttons.forEach((b, i) => {
      const n = this.layout[i];
      const flags = n && n.layer >= 0 ? this.flags[n.layer] ?? [] : [];
      const base = b.dataset.label ?? b.getAttribute('aria-label') ?? '';
      b.dataset.label = base;
      b.setAttribute('aria-label', flags.length > 0 ? `${base}; warning: ${flags.map(flagWords).join(', ')}` : base);
    });
  }

  /** The reusable pixel canvas of a grid node. */
  private cellCanvas(n: NodeLayout): HTMLCanvasElement {
    let c = this.cells.get(n.layer);
    if (!c) {
      c = document.createElement('canvas');
      this.cells.set(n.layer, c);
    }
    if (c.width !== n.cols || c.height !== n.rows) {
      c.width = n.cols;
      c.height = n.rows;
    }
    return c;
  }

  /**
   * A model input by its box's layer number (−1 − index): its name (a graph's), shape, and the
   * `param` its captured values carry (the name, when a model has several inputs).
   */
  private inputOf(layer: number): { name?: string; shape: (number | null)[]; param?: string } {
    const model = this.store.state.meta?.model;
    const graph = model?.graph;
    const input = graph?.inputs[-1 - layer];
    if (!input) return { shape: model?.inputShape ?? [] };
    return { name: input.name, shape: input.shape, param: graph.inputs.length > 1 ? input.name : undefined };
  }

  private tooltipFor(layerIndex: number) {
    const { meta, record } = this.store.state;
    if (!meta) return { title: '', rows: [] };
    if (layerIndex < 0) {
      const about = this.inputOf(layerIndex);
      const input = findSummary(record, 0, 'input', about.param);
      const rows: [string, string][] = [['Shape', formatShape(about.shape)], ['Total parameters', formatInt(meta.model.totalParams)]];
      if (input?.stats) rows.push(['x', `mean ${formatNum(input.stats.mean)} · [${formatNum(input.stats.min)}, ${formatNum(input.stats.max)}]`]);
      return { title: `Input${about.name ? ` ${about.name}` : ''} · ${meta.model.name}`, rows };
    }
    const layer = meta.model.layers[layerIndex];
    const health = record ? layerHealthOf(record, meta.model.layers, layer.index) : undefined;
    const content = layerTooltip(layer, record, health);
    content.rows.push(['Model total', `${formatInt(meta.model.totalParams)} parameters`]);
    return content;
  }

  private refreshTooltip(): void {
    if (this.hovered !== undefined) this.tooltip.update(this.tooltipFor(this.hovered));
  }

  // -------------------------------------------------------------------------------------------

  private valuesFor(n: NodeLayout, stop: PhaseStop, record: StepRecord | undefined, layers: LayerInfo[]): NodeValues {
    if (n.layer < 0) {
      const { param } = this.inputOf(n.layer);
      const t = findTensor(record, 0, 'input', param);
      return { role: 'input', values: t && t.scope !== 'full' ? sampleRow(t, selectedSampleIndex(record)) : undefined, summary: findSummary(record, 0, 'input', param), active: stop.phase === 'forward' && stop.layer === 0, faded: false };
    }
    const L = n.layer;
    const outputs = this.store.state.meta?.model.graph?.outputs.map((o) => o.node) ?? [layers.length - 1];
    let role: TensorRole = 'activation';
    let param: string | undefined;
    let active = false;
    let faded = false;
    switch (stop.phase) {
      case 'forward':
        active = L === stop.layer;
        faded = L > stop.layer;
        break;
      case 'loss':
        active = outputs.includes(L);
        break;
      case 'backward':
        if (L >= stop.layer) role = 'gradActivation';
        else faded = true;
        active = L === stop.layer;
        break;
      case 'update':
        role = 'delta';
        param = layers[L].params[0]?.name;
        active = layers[L].paramCount > 0;
        break;
    }
    let values: Float32Array | undefined;
    if (role === 'delta') {
      // Per unit: the bias update, when the whole parameter was kept.
      const bias = layers[L].params.find((p) => p.name === 'bias');
      const t = bias ? findTensor(record, L, 'delta', 'bias') : undefined;
      if (t && t.values.length === n.units) values = t.values;
    } else {
      const t = findTensor(record, L, role);
      if (t && t.scope !== 'full') values = sampleRow(t, selectedSampleIndex(record));
    }
    return { role, param, values, summary: findSummary(record, L, role, param), active, faded };
  }

  private draw(): void {
    const { meta, record } = this.store.state;
    const ctx = context2d(this.canvas);
    const dpr = this.canvas.width / Math.max(1, this.width || this.el.clientWidth || 1);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    if (!meta || this.layout.length === 0) return;
    const t = this.theme;
    const stop = this.store.currentStop();
    const layers = meta.model.layers;
    const values = this.layout.map((n) => this.valuesFor(n, stop, record, layers));
    const graph = meta.model.graph;
    if (graph) this.edges.highlight(stop, t);

    // Edges of a chain: between consecutive nodes; the one the phase is crossing is highlighted.
    for (let i = 0; i + 1 < this.layout.length && !graph; i++) {
      const a = this.layout[i];
      const b = this.layout[i + 1];
      const forwardHere = stop.phase === 'forward' && stop.layer === b.layer;
      const backwardHere = stop.phase === 'backward' && stop.layer === b.layer;
      const updateHere = stop.phase === 'update' && layers[b.layer].paramCount > 0;
      const hot = forwardHere || backwardHere || updateHere;
      ctx.strokeStyle = hot ? (backwardHere ? rgbOf(t.negative) : updateHere ? t.accent : rgbOf(t.positive)) : t.border;
      ctx.globalAlpha = hot ? 0.5 : 0.35;
      ctx.lineWidth = hot ? 1.2 : 0.8;
      ctx.beginPath();
      for (const ya of anchors(a)) for (const yb of anchors(b)) {
        ctx.moveTo(a.x + a.w, ya);
        ctx.lineTo(b.x, yb);
      }
      ctx.stroke();
      ctx.globalAlpha = 1;
      if (forwardHere || backwardHere) arrow(ctx, (a.x + a.w + b.x) / 2, (a.y + a.h / 2 + b.y + b.h / 2) / 2, forwardHere ? 1 : -1, ctx.strokeStyle as string);
    }

    // Loss node.
    const out = this.layout[this.layout.length - 1];
    const lb = this.lossBox;
    const lossActive = stop.phase === 'loss';
    ctx.strokeStyle = lossActive ? rgbOf(t.positive) : t.border;
    ctx.lineWidth = lossActive ? 2 : 1;
    if (!graph) {
      ctx.beginPath();
      ctx.moveTo(out.x + out.w, out.y + out.h / 2);
      ctx.lineTo(lb.x, lb.y + lb.h / 2);
      ctx.stroke();
    }
    ctx.strokeRect(lb.x, lb.y, lb.w, lb.h);
    ctx.fillStyle = t.foreground;
    ctx.font = t.font;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.fillText('loss', lb.x + lb.w / 2, lb.y + lb.h / 2 - 7);
    // A held step before its loss phase has no loss yet (a NaN loss of a whole step is real).
    const lossPending = !record || (record.step === this.store.heldStep() && !Number.isFinite(record.loss));
    ctx.fillText(lossPending ? '…' : formatNum(record.loss), lb.x + lb.w / 2, lb.y + lb.h / 2 + 8);

    // Nodes.
    this.layout.forEach((n, i) => this.drawNode(ctx, n, values[i], layers));
  }

  private drawNode(ctx: CanvasRenderingContext2D, n: NodeLayout, v: NodeValues, layers: LayerInfo[]): void {
    const t = this.theme;
    ctx.globalAlpha = v.faded ? 0.35 : 1;
    const scale = scaleOf(v);
    const lut = v.role === 'input' ? t.sequential : t.diverging;
    const colorAt = (k: number): string => {
      if (!v.values) return t.background;
      if (v.role === 'input') {
        const lo = v.summary?.stats?.min ?? 0;
        const hi = v.summary?.stats?.max ?? 1;
        return lutColor(lut, Math.max(0, Math.min(255, Math.round(((v.values[k] - lo) / (hi - lo || 1)) * 255))));
      }
      return lutColor(lut, divergingIndex(v.values[k], scale));
    };
    if (n.mode === 'units') {
      for (let k = 0; k < n.units; k++) {
        ctx.beginPath();
        ctx.arc(n.cx, n.unitY[k], n.r, 0, Math.PI * 2);
        ctx.fillStyle = colorAt(k);
        ctx.fill();
        ctx.strokeStyle = t.border;
        ctx.lineWidth = 1;
        ctx.stroke();
      }
      if (!v.values && v.summary?.stats) drawHistogram(ctx, v.summary, n.x + n.w + 3, n.y + n.h / 2 - 15, 24, 30, t);
    } else if (v.values && n.units <= CELLS_MAX && v.values.length >= n.units) {
      // One pixel per unit into a small canvas, scaled up without smoothing: one draw call.
      const cells = this.cellCanvas(n);
      const cctx = context2d(cells);
      const img = cctx.createImageData(n.cols, n.rows);
      const lo = v.summary?.stats?.min ?? 0;
      const range = (v.summary?.stats?.max ?? 1) - lo || 1;
      const map = n.map!;
      for (let p = 0; p < map.length; p++) {
        const k = map[p];
        if (k < 0) continue;
        const li = (v.role === 'input' ? Math.max(0, Math.min(255, Math.round(((v.values[k] - lo) / range) * 255))) : divergingIndex(v.values[k], scale)) * 4;
        img.data[p * 4] = lut[li];
        img.data[p * 4 + 1] = lut[li + 1];
        img.data[p * 4 + 2] = lut[li + 2];
        img.data[p * 4 + 3] = 255;
      }
      cctx.putImageData(img, 0, 0);
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(cells, n.x, n.y, n.w, n.h);
    } else if (v.summary?.stats) {
      drawHistogram(ctx, v.summary, n.x + 2, n.y + 2, n.w - 4, n.h - 4, t);
    }
    // Outline: selection, then the active phase.
    const selected = n.layer === this.store.state.selectedLayer;
    ctx.globalAlpha = 1;
    if (n.mode === 'grid' || selected || v.active) {
      ctx.strokeStyle = v.active ? (v.role === 'gradActivation' ? rgbOf(t.negative) : v.role === 'delta' ? t.accent : rgbOf(t.positive)) : selected ? t.focus : t.border;
      ctx.lineWidth = v.active || selected ? 2 : 1;
      ctx.strokeRect(n.x - 2, n.y - 2, n.w + 4, n.h + 4);
      if (selected && v.active) {
        ctx.setLineDash([3, 3]);
        ctx.strokeStyle = t.focus;
        ctx.strokeRect(n.x - 5, n.y - 5, n.w + 10, n.h + 10);
        ctx.setLineDash([]);
      }
    }
    // Caption: name, then the value shown, in words.
    ctx.globalAlpha = v.faded ? 0.6 : 1;
    ctx.fillStyle = t.foreground;
    ctx.font = t.font;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    const layer = n.layer >= 0 ? layers[n.layer] : undefined;
    const name = layer ? layer.name : (this.inputOf(n.layer).name ?? 'input');
    // Captions share the column with their neighbours': in a narrow panel the shorter form is
    // drawn, then an ellipsis (the tooltip and the layer card have every number).
    const room = this.columnWidth - 6;
    ctx.fillText(fitText(ctx, room, `${truncate(name, 16)} · ${formatInt(n.units)}`, truncate(name, 16)), n.cx, n.captionY);
    ctx.fillStyle = t.muted;
    const st = v.summary?.stats;
    const symbol = roleSymbol(v.role, v.param);
    const valueText = st ? fitText(ctx, room, `${symbol} μ ${formatNum(st.mean)} σ ${formatNum(st.std)}`, `${symbol} μ ${formatNum(st.mean)}`, `μ ${formatNum(st.mean)}`) : symbol;
    ctx.fillText(valueText, n.cx, n.captionY + 14);
    ctx.globalAlpha = 1;
    // Health, in words and as a badge on the block: an unhealthy layer shows at a glance.
    const flags = n.layer >= 0 ? this.flags[n.layer] ?? [] : [];
    if (flags.length > 0) {
      const color = flags.includes('non-finite') ? t.error : t.warning;
      ctx.fillStyle = color;
      ctx.fillText(`⚠ ${flags.map(flagWords).join(', ')}`, n.cx, n.captionY + 28);
      const bx = n.x + n.w + 2;
      const by = n.y - 2;
      ctx.beginPath();
      ctx.arc(bx, by, 7, 0, Math.PI * 2);
      ctx.fill();
      ctx.fillStyle = t.background;
      ctx.font = `bold ${t.font}`;
      ctx.textBaseline = 'middle';
      ctx.fillText('!', bx, by + 0.5);
      ctx.strokeStyle = color;
      ctx.lineWidth = 2;
      ctx.strokeRect(n.x - 2, n.y - 2, n.w + 4, n.h + 4);
    }
  }
}

const FLAG_WORDS: Record<HealthFlag, string> = {
  'non-finite': 'NaN/Inf',
  'dead-units': 'dead units',
  'vanishing-gradient': 'vanishing gradient',
  'exploding-gradient': 'exploding gradient',
};

function flagWords(f: HealthFlag): string {
  return FLAG_WORDS[f];
}

function rgbOf(c: [number, number, number]): string {
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}

/** The first of `forms` that fits in `width` pixels, else the last one cut with an ellipsis. */
function fitText(ctx: CanvasRenderingContext2D, width: number, ...forms: string[]): string {
  for (const f of forms) if (ctx.measureText(f).width <= width) return f;
  let last = forms[forms.length - 1] ?? '';
  while (last.length > 1 && ctx.measureText(`${last}…`).width > width) last = last.slice(0, -1);
  return `${last}…`;
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

/**
 * How a layer's values are laid out as pixels: a picture for 28×28 / 28×28×1 / a flat square of
 * ≥ 64 values (784), one tile per channel for feature maps [h, w, c] (1-pixel gaps between
 * tiles), else a near-square grid in order.
 */
function pixelLayout(shape: readonly (number | null)[], units: number): { cols: number; rows: number; map: Int32Array } {
  const dims = shape.filter((d): d is number => d !== null && d > 0);
  let [h, w, c] = [0, 0, 1];
  if ((dims.length === 2 || dims.length === 3) && dims[0] >= 4 && dims[1] >= 4) [h, w, c] = [dims[0], dims[1], dims[2] ?? 1];
  else if (dims.length === 1 && Math.round(Math.sqrt(dims[0])) ** 2 === dims[0] && dims[0] >= 64) h = w = Math.round(Math.sqrt(dims[0]));
  if (h === 0) {
    const cols = Math.ceil(Math.sqrt(units));
    const rows = Math.ceil(units / cols);
    const map = new Int32Array(cols * rows).fill(-1);
    for (let k = 0; k < units; k++) map[k] = k;
    return { cols, rows, map };
  }
  const tilesX = Math.ceil(Math.sqrt(c));
  const tilesY = Math.ceil(c / tilesX);
  const gap = c > 1 ? 1 : 0;
  const cols = tilesX * (w + gap) - gap;
  const rows = tilesY * (h + gap) - gap;
  const map = new Int32Array(cols * rows).fill(-1);
  for (let ch = 0; ch < c; ch++) {
    const ox = (ch % tilesX) * (w + gap);
    const oy = Math.floor(ch / tilesX) * (h + gap);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) map[(oy + y) * cols + ox + x] = (y * w + x) * c + ch;
  }
  return { cols, rows, map };
}

function scaleOf(v: NodeValues): number {
  let m = 0;
  if (v.values) for (let i = 0; i < v.values.length; i++) {
    const a = Math.abs(v.values[i]);
    if (a > m && Number.isFinite(a)) m = a;
  } else if (v.summary?.stats) m = Math.max(Math.abs(v.summary.stats.min), Math.abs(v.summary.stats.max));
  return m;
}

/** Where edges attach: every unit of a small layer, eight points along a block's side. */
function anchors(n: NodeLayout): number[] {
  if (n.mode === 'units') return n.unitY;
  return Array.from({ length: 8 }, (_, k) => n.y + ((k + 0.5) / 8) * n.h);
}

function arrow(ctx: CanvasRenderingContext2D, x: number, y: number, dir: 1 | -1, color: string): void {
  ctx.fillStyle = color;
  ctx.beginPath();
  ctx.moveTo(x + dir * 6, y);
  ctx.lineTo(x - dir * 6, y - 5);
  ctx.lineTo(x - dir * 6, y + 5);
  ctx.closePath();
  ctx.fill();
}

function drawHistogram(ctx: CanvasRenderingContext2D, s: TensorSummary, x: number, y: number, w: number, hgt: number, t: Theme): void {
  const hist = s.stats?.histogram;
  if (!hist || hist.length === 0) return;
  let max = 0;
  for (let i = 0; i < hist.length; i++) if (hist[i] > max) max = hist[i];
  if (max === 0) return;
  const bw = w / hist.length;
  ctx.fillStyle = t.muted;
  for (let i = 0; i < hist.length; i++) {
    const bh = (Math.sqrt(hist[i]) / Math.sqrt(max)) * hgt;
    ctx.fillRect(x + i * bw, y + hgt - bh, Math.max(1, bw - 0.5), bh);
  }
}
