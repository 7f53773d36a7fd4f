// One vocabulary for numbers, shapes and tensor roles, read by the panel, the editor (hover,
// inline values, CodeLens, status bar) and the command line, so they say the same thing the same
// way: every value the panel colours is also written out.
import type { TensorRole, TensorStats } from './traceTypes';

const intFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** 200960 → "200,960". */
export function formatInt(n: number): string {
  return intFormat.format(n);
}

/**
 * A statistic: `digits` significant digits (4 in the panel, 3 where space is short: the editor),
 * exponent form for very large or very small magnitudes, one minus sign throughout.
 */
export function formatNum(x: number | undefined | null, digits = 4): string {
  if (x === undefined || x === null) return '—';
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '+∞' : '−∞';
  if (x === 0) return '0';
  const a = Math.abs(x);
  const s = a >= 1e4 || a < 1e-3 ? x.toExponential(Math.max(0, digits - 2)) : String(Number(x.toPrecision(digits)));
  return s.replaceAll('-', '−');
}

/** 0.521 → "52.1%" (`decimals` 1; 0 where space is short). */
export function formatPercent(f: number | undefined, decimals = 1): string {
  if (f === undefined || !Number.isFinite(f)) return '—';
  return `${(f * 100).toFixed(decimals > 0 && f > 0 && f < 0.01 ? decimals + 1 : decimals)}%`;
}

/** [null, 256] → "[batch, 256]": a tfjs shape, as tfjs writes it, with the batch named. */
export function formatShape(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => (d === null || d < 0 ? 'batch' : String(d))).join(', ')}]`;
}

/**
 * The statistics of a tensor, in the order everything shows them: the panel's table and tooltip,
 * the editor's hover and the command line iterate this, so a new statistic is one row here.
 */
export interface StatColumn {
  /** Column heading / label: "mean". */
  label: string;
  /** What it is, for a tooltip or a screen reader. */
  words: string;
  format(stats: TensorStats, digits?: number): string;
  /** The value flags trouble (the cell is marked). */
  bad?(stats: TensorStats): boolean;
  /** The change from `base` to `stats` in this column's terms ("+0.012", "+3.1 pp", "+2/0"); "=" when equal. */
  delta?(stats: TensorStats, base: TensorStats, digits?: number): string;
}

/** A signed difference in the shared vocabulary: "+0.0123", "−4.5e−6", "=" when there is none. */
export function formatDelta(now: number, base: number, digits = 4): string {
  if (now === base || (Number.isNaN(now) && Number.isNaN(base))) return '=';
  const d = now - base;
  if (Number.isNaN(d)) return `${formatNum(base, digits)} → ${formatNum(now, digits)}`;
  return d > 0 ? `+${formatNum(d, digits)}` : formatNum(d, digits);
}

const numberDelta = (pick: (s: TensorStats) => number) => (s: TensorStats, b: TensorStats, d?: number) => formatDelta(pick(s), pick(b), d);

export const STAT_COLUMNS: readonly StatColumn[] = [
  { label: 'mean', words: 'mean', format: (s, d) => formatNum(s.mean, d), delta: numberDelta((s) => s.mean) },
  { label: 'std', words: 'standard deviation', format: (s, d) => formatNum(s.std, d), delta: numberDelta((s) => s.std) },
  { label: 'min', words: 'smallest value', format: (s, d) => formatNum(s.min, d), delta: numberDelta((s) => s.min) },
  { label: 'max', words: 'largest value', format: (s, d) => formatNum(s.max, d), delta: numberDelta((s) => s.max) },
  { label: '‖·‖', words: 'L2 norm', format: (s, d) => formatNum(s.l2, d), delta: numberDelta((s) => s.l2) },
  {
    label: 'zeros',
    words: 'fraction of exact zeros',
    format: (s) => formatPercent(s.zeroFraction),
    // In percentage points: the column is a percentage.
    delta: (s, b) => (s.zeroFraction === b.zeroFraction ? '=' : `${s.zeroFraction > b.zeroFraction ? '+' : '−'}${formatPercent(Math.abs(s.zeroFraction - b.zeroFraction)).replace('%', ' pp')}`),
  },
  {
    label: 'NaN/Inf',
    words: 'NaN and ±Inf values',
    format: (s) => `${s.nanCount}/${s.infCount}`,
    bad: (s) => s.nanCount + s.infCount > 0,
    delta: (s, b) => (s.nanCount === b.nanCount && s.infCount === b.infCount ? '=' : `${signedCount(s.nanCount - b.nanCount)}/${signedCount(s.infCount - b.infCount)}`),
  },
];

function signedCount(n: number): string {
  return n > 0 ? `+${n}` : n < 0 ? `−${-n}` : '0';
}

/** Number of values in one example of this shape (batch dimension dropped). */
export function unitsOf(shape: readonly (number | null)[]): number {
  let n = 1;
  for (const d of shape) if (d !== null && d > 0) n *= d;
  return n;
}

const ROLE_SYMBOL: Record<TensorRole, string> = {
  input: 'x',
  preactivation: 'z',
  activation: 'a',
  gradActivation: '∂L/∂a',
  gradPreactivation: '∂L/∂z',
  gradParam: '∂L/∂',
  param: '',
  delta: 'Δ',
};

const ROLE_WORDS: Record<TensorRole, string> = {
  input: 'input',
  preactivation: 'weighted sum',
  activation: 'activation',
  gradActivation: 'gradient of the activation',
  gradPreactivation: 'gradient of the weighted sum',
  gradParam: 'gradient of',
  param: '',
  delta: 'update of',
};

function paramSymbol(param: string | undefined): string {
  if (param === 'kernel') return 'W';
  if (param === 'bias') return 'b';
  return param ?? 'θ';
}

/** Short symbol: activation → "a", gradParam/kernel → "∂L/∂W", delta/bias → "Δb". */
export function roleSymbol(role: TensorRole, param?: string): string {
  if (role === 'gradParam' || role === 'param' || role === 'delta') return ROLE_SYMBOL[role] + paramSymbol(param);
  return ROLE_SYMBOL[role];
}

/** Words: gradParam/kernel → "gradient of the weights (kernel)". */
export function roleWords(role: TensorRole, param?: string): string {
  if (role === 'gradParam' || role === 'param' || role === 'delta') {
    const what = param === 'kernel' ? 'weights' : param === 'bias' ? 'biases' : (param ?? 'parameter');
    return `${ROLE_WORDS[role]} ${what}`.trim();
  }
  return ROLE_WORDS[role];
}

/** "/home/me/model.ts" → "model.ts". */
export function baseName(path: string): string {
  const i = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return i >= 0 ? path.slice(i + 1) : path;
}
