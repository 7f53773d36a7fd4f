// How a layer and its numbers read in the editor (hover, inline values, diagnostics): one place,
// so the three say the same thing the same way.
import type { LayerHealth } from '../shared/health';
import type { LayerInfo, StepRecord, TensorStats } from '../shared/traceTypes';

const grouped = new Intl.NumberFormat('en-US');

export function formatCount(n: number): string {
  return grouped.format(n);
}

export function formatShape(shape: (number | null)[]): string {
  return `[${shape.map((d) => (d === null ? 'batch' : String(d))).join(', ')}]`;
}

export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(2);
  return v.toPrecision(3);
}

export function formatPercent(fraction: number): string {
  return `${Math.round(fraction * 100)}%`;
}

/** The activation statistics of `layer` in `record` (its output after the activation). */
export function activationStats(record: StepRecord, layer: number): TensorStats | undefined {
  return (
    record.summaries.find((s) => s.layer === layer && s.role === 'activation')?.stats ??
    record.summaries.find((s) => s.layer === layer && s.role === 'preactivation')?.stats
  );
}

/**
 * The short text after a layer's line while stepping: its output's mean ± std and dead units once
 * the step has computed them (its shape until then). Short, because it follows a line of code in
 * an editor that shares the window with the panel; the hover has the rest.
 */
export function inlineText(layer: LayerInfo, record: StepRecord | undefined, health: LayerHealth | undefined): string {
  const stats = record ? activationStats(record, layer.index) : undefined;
  const parts = stats ? [`${formatNumber(stats.mean)} ± ${formatNumber(stats.std)}`] : [formatShape(layer.outputShape)];
  const dead = health?.deadFraction ?? stats?.deadUnitFraction;
  if (dead !== undefined) parts.push(`${formatPercent(dead)} dead`);
  if (health?.gradNorm !== undefined) parts.push(`‖∂W‖ ${formatNumber(health.gradNorm)}`);
  if (health && health.flags.length > 0) parts.push(`⚠ ${health.flags.join(', ')}`);
  return parts.join(' · ');
}
