// Numbers, shapes and tensor roles as words: every value the panel colours is also written out.
import type { TensorRole } from '../src/shared/traceTypes';

const intFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** 200960 → "200,960". */
export function formatInt(n: number): string {
  return intFormat.format(n);
}

/** A statistic: 4 significant digits, exponent form for very large or very small magnitudes. */
export function formatNum(x: number | undefined | null): string {
  if (x === undefined || x === null) return '—';
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '+∞' : '−∞';
  if (x === 0) return '0';
  const a = Math.abs(x);
  const s = a >= 1e4 || a < 1e-3 ? x.toExponential(2) : String(Number(x.toPrecision(4)));
  return s.replaceAll('-', '−');
}

export function formatPercent(f: number | undefined): string {
  if (f === undefined || !Number.isFinite(f)) return '—';
  return `${(f * 100).toFixed(f > 0 && f < 0.01 ? 2 : 1)}%`;
}

/** [null, 256] → "(batch, 256)". */
export function formatShape(shape: readonly (number | null)[]): string {
  return `(${shape.map((d) => (d === null || d < 0 ? 'batch' : String(d))).join(', ')})`;
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
  prediction: 'ŷ',
  target: 'y',
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
  prediction: 'prediction',
  target: 'target',
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
