// A run comparison in words and a table, for the terminal and for the editor's report document.
import { formatNum } from '../shared/format';
import type { Divergence, RunDiff, TensorChange, ValueDifference } from './runDiff';

/** A value in the shared vocabulary, with 6 digits: enough to tell two close runs apart. */
function number(v: number | undefined): string {
  return v === undefined ? '(not recorded)' : formatNum(v, 6);
}

/** A relative change as a percentage with three significant digits ("12.3%"), "0" when none. */
export function percent(v: number): string {
  if (v === 0) return '0';
  if (!Number.isFinite(v)) return '∞';
  const p = v * 100;
  if (p < 0.01) return `${p.toExponential(1)}%`;
  return `${p >= 100 ? p.toFixed(0) : p.toPrecision(3)}%`;
}

export function describeDifference(d: ValueDifference): string {
  if (d.detail) return `${d.quantity}: ${d.detail}`;
  return `${d.quantity} ${number(d.a)} vs ${number(d.b)}`;
}

/** "step 0, forward · dense_Dense1 (z mean 0.1707 vs 0.1532)". */
export function describeDivergence(d: Divergence): string {
  return `step ${d.step}, ${d.where} (${describeDifference(d.differences[0])})`;
}

function changeRow(c: TensorChange): string[] {
  return [c.layerName, c.label, percent(c.meanShift), percent(c.stdChange), percent(c.l2Change), String(c.atStep), c.firstDifferentStep === undefined ? '–' : String(c.firstDifferentStep)];
}

/** Columns padded to their widest cell; the first two left-aligned, the numbers right-aligned. */
function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)];
}

const METRIC_LABEL = { loss: 'loss', accuracy: 'accuracy', testLoss: 'test loss', testAccuracy: 'test accuracy' } as const;

/** The whole comparison: the verdict, the first divergence, unmatched layers, notes, the table. */
export function formatRunDiff(diff: RunDiff): string[] {
  const out: string[] = [];
  const tol = diff.tolerance === 0 ? 'exactly' : `within a tolerance of ${diff.tolerance}`;
  if (diff.identical) {
    out.push(`identical: ${diff.sharedSteps} steps, ${diff.layers.matched.length} layers, every captured value equal ${tol}`);
  } else if (diff.firstDivergence) {
    out.push(`first divergence: ${describeDivergence(diff.firstDivergence)}`);
    const more = diff.firstDivergence.differences.slice(1);
    if (more.length > 0) {
      const shown = more.slice(0, 6).map(describeDifference);
      out.push(`  also differing there: ${shown.join('; ')}${more.length > shown.length ? `; and ${more.length - shown.length} more` : ''}`);
    }
  } else {
    out.push(`no divergence on the ${diff.sharedSteps} shared steps and ${diff.layers.matched.length} matched layers (compared ${tol}), but the runs differ:`);
  }
  const renamed = diff.layers.matched.filter((m) => m.nameA !== m.nameB);
  if (renamed.length > 0) out.push(`layers matched by position: ${renamed.map((m) => `${m.nameA} ↔ ${m.nameB}`).join(', ')}`);
  if (diff.layers.onlyA.length > 0) out.push(`only in run A (not compared): ${diff.layers.onlyA.map((l) => `#${l.index} ${l.name}`).join(', ')}`);
  if (diff.layers.onlyB.length > 0) out.push(`only in run B (not compared): ${diff.layers.onlyB.map((l) => `#${l.index} ${l.name}`).join(', ')}`);
  for (const n of diff.notes) out.push(`note: ${n}`);
  if (diff.identical || diff.sharedSteps === 0) return out;

  out.push('', `largest changes over the ${diff.sharedSteps} shared steps (mean shift in units of max(std, |mean|); std and L2 relative):`);
  out.push(...table(['layer', 'tensor', 'mean shift', 'std', 'L2', 'at step', 'first differs'], diff.changes.map(changeRow)));
  const metrics = diff.metrics.map((m) => `${METRIC_LABEL[m.metric]} ${percent(m.maxRelative)}${m.maxRelative > 0 ? ` (step ${m.atStep})` : ''}`);
  if (metrics.length > 0) out.push(`metrics, largest relative change: ${metrics.join(', ')}`);
  return out;
}

export interface ReportedRun {
  dir: string;
  meta: { file: string; createdAt: string; backend: { name: string }; config: { seed: number } };
  stepCount: number;
}

/** The comparison as a Markdown document: the verdict on top, the table in a monospaced block. */
export function runDiffMarkdown(diff: RunDiff, a: ReportedRun, b: ReportedRun): string {
  const run = (label: string, r: ReportedRun) =>
    `- **${label}**: \`${r.dir}\` — ${r.meta.file.split(/[\\/]/).pop()}, ${r.meta.createdAt}, ${r.meta.backend.name}, seed ${r.meta.config.seed}, ${r.stepCount} steps`;
  const verdict = diff.identical
    ? '**Identical**'
    : diff.firstDivergence
      ? `**First divergence:** ${describeDivergence(diff.firstDivergence)}`
      : '**The runs differ** (no divergence on the steps and layers they share)';
  return ['# Gradient Lens: run comparison', '', run('A', a), run('B', b), '', verdict, '', '```text', ...formatRunDiff(diff), '```', ''].join('\n');
}
