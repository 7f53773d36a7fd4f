// Which layers' numbers an edit changed most: run diff's per-tensor table (largest relative
// change of each tensor's mean, std and L2 over the shared steps) folded into one figure per
// layer, in the newer run's numbering, so the editor can mark the lines where the effect shows.
import type { RunDiff, TensorChange } from './runDiff';
import { percent } from './runDiffReport';

export interface LayerChange {
  /** The layer's index in the newer run (run B of the diff). */
  layer: number;
  layerName: string;
  /** The tensor and statistic that moved most: "∂L/∂W ‖·‖". */
  what: string;
  /** That statistic's largest relative change over the shared steps (0.38: 38%; Infinity from or to zero). */
  change: number;
  atStep: number;
  /** The first shared step at which any of the layer's numbers differed; undefined when none did. */
  firstDifferentStep?: number;
}

const STATISTICS = [
  ['mean', (c: TensorChange) => c.meanShift],
  ['std', (c: TensorChange) => c.stdChange],
  ['‖·‖', (c: TensorChange) => c.l2Change],
] as const;

/** Every matched layer's largest change (the loss's own tensors are no layer's), largest first. */
export function layerChanges(diff: RunDiff): LayerChange[] {
  const toB = new Map(diff.layers.matched.map((m) => [m.a, m]));
  const byLayer = new Map<number, LayerChange>();
  for (const row of diff.changes) {
    const match = toB.get(row.layer);
    if (!match) continue;
    let mine = byLayer.get(match.b);
    if (!mine) {
      mine = { layer: match.b, layerName: match.nameB, what: '', change: -1, atStep: row.atStep };
      byLayer.set(match.b, mine);
    }
    for (const [stat, value] of STATISTICS) {
      const v = value(row);
      if (v > mine.change) {
        mine.change = v;
        mine.what = `${row.label} ${stat}`;
        mine.atStep = row.atStep;
      }
    }
    const first = row.firstDifferentStep;
    if (first !== undefined && (mine.firstDifferentStep === undefined || first < mine.firstDifferentStep)) mine.firstDifferentStep = first;
  }
  return [...byLayer.values()].sort(
    (p, q) => q.change - p.change || (p.firstDifferentStep ?? Infinity) - (q.firstDifferentStep ?? Infinity) || p.layer - q.layer,
  );
}

export interface MarkOptions {
  /** At most this many layers (default 3): a mark on every line would say nothing. */
  max?: number;
  /** Only changes above this (default 0.01, 1%): rounding noise marks nothing. */
  threshold?: number;
}

/** The layers whose numbers changed most, largest first. */
export function layersChangedMost(diff: RunDiff, options: MarkOptions = {}): LayerChange[] {
  const max = options.max ?? 3;
  const threshold = options.threshold ?? 0.01;
  return layerChanges(diff).filter((c) => c.change > threshold).slice(0, max);
}

/** "Δ vs previous run: ∂L/∂W ‖·‖ 38% (step 2)". */
export function changeText(c: LayerChange): string {
  if (c.change <= 0) return 'Δ vs previous run: none';
  return `Δ vs previous run: ${c.what} ${percent(c.change)} (step ${c.atStep})`;
}
