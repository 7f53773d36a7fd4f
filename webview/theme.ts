// Colours from the VS Code theme (CSS variables on <body>), resolved to RGB for canvas drawing,
// and refreshed when VS Code switches theme (it changes the body's class).

export type Rgb = [number, number, number];

export interface Theme {
  foreground: string;
  muted: string;
  background: string;
  border: string;
  focus: string;
  accent: string;
  lossColor: string;
  accuracyColor: string;
  testColor: string;
  warning: string;
  error: string;
  font: string;
  /** 256 RGBA entries: negative (blue) → background → positive (orange). */
  diverging: Uint8ClampedArray;
  /** 256 RGBA entries: background → foreground-ish intensity, for histograms. */
  sequential: Uint8ClampedArray;
  negative: Rgb;
  positive: Rgb;
  backgroundRgb: Rgb;
}

let probe: CanvasRenderingContext2D | null = null;

/** Any CSS colour → RGB, by letting a 1×1 canvas parse it. */
export function parseColor(css: string, fallback: Rgb): Rgb {
  if (!css) return fallback;
  probe ??= document.createElement('canvas').getContext('2d', { willReadFrequently: true });
  if (!probe) return fallback;
  probe.clearRect(0, 0, 1, 1);
  probe.fillStyle = '#000';
  probe.fillStyle = css.trim();
  probe.fillRect(0, 0, 1, 1);
  const d = probe.getImageData(0, 0, 1, 1).data;
  return [d[0], d[1], d[2]];
}

function cssVar(style: CSSStyleDeclaration, name: string, fallback: string): string {
  return style.getPropertyValue(name).trim() || fallback;
}

function rgb(c: Rgb): string {
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}

function ramp(from: Rgb, to: Rgb, t: number): Rgb {
  return [from[0] + (to[0] - from[0]) * t, from[1] + (to[1] - from[1]) * t, from[2] + (to[2] - from[2]) * t];
}

export function readTheme(): Theme {
  const style = getComputedStyle(document.body);
  const foreground = cssVar(style, '--vscode-foreground', '#cccccc');
  const background = cssVar(style, '--vscode-editor-background', '#1e1e1e');
  const backgroundRgb = parseColor(background, [30, 30, 30]);
  const foregroundRgb = parseColor(foreground, [204, 204, 204]);
  const negative = parseColor(cssVar(style, '--vscode-charts-blue', '#3794ff'), [55, 148, 255]);
  const positive = parseColor(cssVar(style, '--vscode-charts-orange', '#d18616'), [209, 134, 22]);
  const diverging = new Uint8ClampedArray(256 * 4);
  const sequential = new Uint8ClampedArray(256 * 4);
  for (let i = 0; i < 256; i++) {
    const t = i / 255;
    const c = t < 0.5 ? ramp(negative, backgroundRgb, t * 2) : ramp(backgroundRgb, positive, (t - 0.5) * 2);
    diverging.set([c[0], c[1], c[2], 255], i * 4);
    const s = ramp(backgroundRgb, foregroundRgb, Math.sqrt(t));
    sequential.set([s[0], s[1], s[2], 255], i * 4);
  }
  return {
    foreground: rgb(foregroundRgb),
    muted: cssVar(style, '--vscode-descriptionForeground', '#999999'),
    background: rgb(backgroundRgb),
    border: cssVar(style, '--vscode-panel-border', cssVar(style, '--vscode-widget-border', '#444444')),
    focus: cssVar(style, '--vscode-focusBorder', '#007fd4'),
    accent: cssVar(style, '--vscode-charts-purple', '#b180d7'),
    lossColor: cssVar(style, '--vscode-charts-red', '#f14c4c'),
    accuracyColor: cssVar(style, '--vscode-charts-green', '#89d185'),
    testColor: cssVar(style, '--vscode-charts-yellow', '#cca700'),
    warning: cssVar(style, '--vscode-editorWarning-foreground', '#cca700'),
    error: cssVar(style, '--vscode-errorForeground', '#f85149'),
    font: `11px ${cssVar(style, '--vscode-font-family', 'system-ui, sans-serif')}`,
    diverging,
    sequential,
    negative,
    positive,
    backgroundRgb,
  };
}

/** Index into a 256-entry LUT for value v on a symmetric scale [-scale, scale]. */
export function divergingIndex(v: number, scale: number): number {
  if (!Number.isFinite(v)) return 255;
  const t = scale > 0 ? v / scale : 0;
  return Math.max(0, Math.min(255, Math.round((t + 1) * 127.5)));
}

export function lutColor(lut: Uint8ClampedArray, index: number): string {
  const o = index * 4;
  return `rgb(${lut[o]}, ${lut[o + 1]}, ${lut[o + 2]})`;
}

/**
 * Calls `onChange` when VS Code switches theme: it sets the theme's variables in the style of
 * <html> and a class (vscode-light, vscode-dark, vscode-high-contrast…) on <body>.
 */
export function watchTheme(onChange: () => void): void {
  let pending = 0;
  const changed = () => {
    // Both attributes change together: re-read once, on the next frame.
    if (pending === 0) pending = requestAnimationFrame(() => {
      pending = 0;
      onChange();
    });
  };
  const observer = new MutationObserver(changed);
  observer.observe(document.body, { attributes: true, attributeFilter: ['class'] });
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ['style'] });
}
