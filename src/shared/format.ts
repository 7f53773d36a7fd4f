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

/** How much room a number has: the panel's and the command line's 4 significant digits, or the editor's 3 (and whole percents). */
export type Precision = 'panel' | 'editor';

const DIGITS: Record<Precision, number> = { panel: 4, editor: 3 };
const PERCENT_DECIMALS: Record<Precision, number> = { panel: 1, editor: 0 };

/**
 * The statistics of a tensor, in the order everything shows them: the panel's table and tooltip,
 * the editor's hover and inline values and the command line iterate this, so a new statistic is
 * one row here.
 */
export interface StatColumn {
  /** Column heading / label: "mean". */
  label: string;
  /** What it is, for a tooltip or a screen reader. */
  words: string;
  format(stats: TensorStats, precision?: Precision): string;
  /** Whether this tensor has the statistic (dead units: activations only); default yes. */
  has?(stats: TensorStats): boolean;
  /**
   * The statistic's few words where there is room for only a few (the inline values after a
   * line of code), or nothing to leave it out there; columns without it are left out there.
   */
  brief?(stats: TensorStats): string | undefined;
  /** The value flags trouble (the cell is marked). */
  bad?(stats: TensorStats): boolean;
  /** The change from `base` to `stats` in this column's terms ("+0.012", "+3.1 pp", "+2/0"); "=" when equal. */
  delta?(stats: TensorStats, base: TensorStats, digits?: number): string;
}

const num = (x: number | undefined, p: Precision = 'panel'): string => formatNum(x, DIGITS[p]);
const percent = (x: number | undefined, p: Precision = 'panel'): string => formatPercent(x, PERCENT_DECIMALS[p]);

/** A signed difference in the shared vocabulary: "+0.0123", "−4.5e−6", "=" when there is none. */
export function formatDelta(now: number, base: number, digits = 4): string {
  if (now === base || (Number.isNaN(now) && Number.isNaN(base))) return '=';
  const d = now - base;
  if (Number.isNaN(d)) return `${formatNum(base, digits)} → ${formatNum(now, digits)}`;
  return d > 0 ? `+${formatNum(d, digits)}` : formatNum(d, digits);
}

const numberDelta = (pick: (s: TensorStats) => number | undefined) => (s: TensorStats, b: TensorStats, d?: number) => {
  const [now, base] = [pick(s), pick(b)];
  return now === undefined || base === undefined ? (now === base ? '=' : '—') : formatDelta(now, base, d);
};

/** A change of a fraction, in percentage points (the column is a percentage). */
const pointsDelta = (pick: (s: TensorStats) => number | undefined) => (s: TensorStats, b: TensorStats) => {
  const [now, base] = [pick(s), pick(b)];
  if (now === base) return '=';
  if (now === undefined || base === undefined) return '—';
  return `${now > base ? '+' : '−'}${formatPercent(Math.abs(now - base)).replace('%', ' pp')}`;
};

function signedCount(n: number): string {
  return n > 0 ? `+${n}` : n < 0 ? `−${-n}` : '0';
}

export const STAT_COLUMNS: readonly StatColumn[] = [
  // "mean ± std" after a line of code, as a debugger's inline value would say it.
  { label: 'mean', words: 'mean', format: (s, p) => num(s.mean, p), brief: (s) => `${num(s.mean, 'editor')} ± ${num(s.std, 'editor')}`, delta: numberDelta((s) => s.mean) },
  { label: 'std', words: 'standard deviation', format: (s, p) => num(s.std, p), delta: numberDelta((s) => s.std) },
  { label: 'min', words: 'smallest value', format: (s, p) => num(s.min, p), delta: numberDelta((s) => s.min) },
  { label: 'max', words: 'largest value', format: (s, p) => num(s.max, p), delta: numberDelta((s) => s.max) },
  { label: '‖·‖', words: 'L2 norm', format: (s, p) => num(s.l2, p), delta: numberDelta((s) => s.l2) },
  { label: 'zeros', words: 'fraction of exact zeros', format: (s, p) => percent(s.zeroFraction, p), delta: pointsDelta((s) => s.zeroFraction) },
  {
    label: 'NaN/Inf',
    words: 'NaN and ±Inf values',
    format: (s) => `${s.nanCount}/${s.infCount}`,
    brief: (s) => (s.nanCount + s.infCount > 0 ? `${s.nanCount} NaN, ${s.infCount} Inf` : undefined),
    bad: (s) => s.nanCount + s.infCount > 0,
    delta: (s, b) => (s.nanCount === b.nanCount && s.infCount === b.infCount ? '=' : `${signedCount(s.nanCount - b.nanCount)}/${signedCount(s.infCount - b.infCount)}`),
  },
  {
    label: 'dead',
    words: 'fraction of dead units (zero for every example of the batch)',
    format: (s, p) => percent(s.deadUnitFraction, p),
    has: (s) => s.deadUnitFraction !== undefined,
    brief: (s) => (s.deadUnitFraction === undefined ? undefined : `${percent(s.deadUnitFraction, 'editor')} dead`),
    delta: pointsDelta((s) => s.deadUnitFraction),
  },
];

/** The columns this tensor has (every one but dead units for a non-activation). */
export function statColumnsOf(stats: TensorStats): readonly StatColumn[] {
  return STAT_COLUMNS.filter((c) => c.has?.(stats) ?? true);
}

/** "mean 0.1234 · std 0.5 · …": every statistic the tensor has, in one line. */
export function statsLine(stats: TensorStats, separator = ' · ', precision: Precision = 'panel'): string {
  return statColumnsOf(stats)
    .map((c) => `${c.label} ${c.format(stats, precision)}`)
    .join(separator);
}

/** The few words of each statistic that has them (mean ± std, NaN/Inf when any, dead units), for the inline values. */
export function briefStats(stats: TensorStats): string[] {
  return STAT_COLUMNS.flatMap((c) => c.brief?.(stats) ?? []);
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
  gradContribution: '∂L/∂a ←',
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
  gradContribution: 'part of the activation gradient sent back by',
};

function paramSymbol(param: string | undefined): string {
  if (param === 'kernel') return 'W';
  if (param === 'bias') return 'b';
  return param ?? 'θ';
}

/** Short symbol: activation → "a", gradParam/kernel → "∂L/∂W", delta/bias → "Δb". */
export function roleSymbol(role: TensorRole, param?: string): string {
  if (role === 'gradParam' || role === 'param' || role === 'delta') return ROLE_SYMBOL[role] + paramSymbol(param);
  if (role === 'gradContribution') return `${ROLE_SYMBOL[role]} ${param ?? '?'}`;
  return ROLE_SYMBOL[role];
}

/** Words: gradParam/kernel → "gradient of the weights (kernel)". */
export function roleWords(role: TensorRole, param?: string): string {
  if (role === 'gradParam' || role === 'param' || role === 'delta') {
    const what = param === 'kernel' ? 'weights' : param === 'bias' ? 'biases' : (param ?? 'parameter');
    return `${ROLE_WORDS[role]} ${what}`.trim();
  }
  if (role === 'gradContribution') return `${ROLE_WORDS[role]} ${param ?? 'a reader'}`;
  return ROLE_WORDS[role];
}

/** "/home/me/model.ts" → "model.ts". */
export function baseName(path: string): string {
  const i = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return i >= 0 ? path.slice(i + 1) : path;
}
