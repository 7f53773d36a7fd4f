// How a layer and its numbers read in the editor (hover, inline values, diagnostics), in the
// shared vocabulary (src/shared/format.ts) at the editor's shorter precision.
import { briefStats, formatNum, formatShape, statColumnsOf } from '../shared/format';
import type { LayerHealth } from '../shared/health';
import type { LayerInfo, StepRecord, TensorStats } from '../shared/traceTypes';

/** A statistic at 3 significant digits: the editor has less room than the panel. */
export function editorNumber(v: number): string {
  return formatNum(v, 3);
}

/** The activation statistics of `layer` in `record` (its output after the activation). */
export function activationStats(record: StepRecord, layer: number): TensorStats | undefined {
  return (
    record.summaries.find((s) => s.layer === layer && s.role === 'activation')?.stats ??
    record.summaries.find((s) => s.layer === layer && s.role === 'preactivation')?.stats
  );
}

/** The hover's rows for a layer's activations: every statistic they have, in the shared order, at the editor's precision. */
export function activationRows(stats: TensorStats): [string, string][] {
  return statColumnsOf(stats).map((c) => [`activation ${c.label}`, c.format(stats, 'editor')]);
}

/**
 * The short text after a layer's line while stepping: the brief form of its output's statistics
 * (mean ± std, dead units, NaN/Inf when any) once the step has computed them (its shape until
 * then). Short, because it follows a line of code in an editor that shares the window with the
 * panel; the hover has the rest.
 */
export function inlineText(layer: LayerInfo, record: StepRecord | undefined, health: LayerHealth | undefined): string {
  const stats = record ? activationStats(record, layer.index) : undefined;
  const parts = stats ? briefStats(stats) : [formatShape(layer.outputShape)];
  if (health?.gradNorm !== undefined) parts.push(`‖∂W‖ ${editorNumber(health.gradNorm)}`);
  if (health && health.flags.length > 0) parts.push(`⚠ ${health.flags.join(', ')}`);
  return parts.join(' · ');
}
