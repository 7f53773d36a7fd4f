// A run comparison as the panel shows it: the host's RunDiff (baseline = run A, the panel's run =
// run B) turned into the protocol's CompareRun, with the first divergence placed in the panel
// run's own phase walk, so the webview jumps there without recomputing anything.
import { baseName, formatNum } from '../shared/format';
import { describeStop, phaseStops } from '../shared/phases';
import type { BaselineStepData, CompareDivergence, CompareRun, ComparedLayer } from '../shared/protocol';
import type { LayerInfo, RunMeta, StepIndexEntry } from '../shared/traceTypes';
import { RunDiffer } from './runDiff';
import type { DiffableRun, RunDiff, ValueDifference } from './runDiff';
import type { TraceReader } from './traceReader';

/** What the message needs of the baseline run: a TraceReader, or anything shaped like one. */
export interface BaselineRun {
  readonly dir: string;
  readonly meta: RunMeta;
  readonly stepCount: number;
  curve(maxPoints?: number): StepIndexEntry[];
}

/** Differences named at the divergence, at most; the rest are counted. */
const SHOWN_DIFFERENCES = 4;

/** "z mean: 0.1707 here, 0.1532 in the baseline" (a is the baseline, b the panel's run). */
export function describeForPanel(d: ValueDifference): string {
  if (d.detail) return `${d.quantity}: ${d.detail.replace(/\brun A\b/g, 'the baseline').replace(/\brun B\b/g, 'this run')}`;
  const v = (x: number | undefined) => (x === undefined ? 'not recorded' : formatNum(x, 6));
  return `${d.quantity}: ${v(d.b)} here, ${v(d.a)} in the baseline`;
}

/** "model.ts · 2026-12-01 11:02:13 · wasm · seed 3 · 4 steps". */
export function baselineLabel(run: BaselineRun): string {
  const when = run.meta.createdAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  return `${baseName(run.meta.file)} · ${when} · ${run.meta.backend.name} · seed ${run.meta.config.seed} · ${run.stepCount} steps`;
}

export function compareMessage(diff: RunDiff, baseline: BaselineRun, layers: readonly LayerInfo[]): CompareRun {
  const toB = new Map(diff.layers.matched.map((m) => [m.a, m]));
  const byB = new Map(diff.layers.matched.map((m) => [m.b, m]));
  const compared: ComparedLayer[] = layers.map((l) => {
    const m = byB.get(l.index);
    return m ? { index: l.index, name: l.name, baselineIndex: m.a, baselineName: m.nameA } : { index: l.index, name: l.name };
  });
  let divergence: CompareDivergence | undefined;
  const first = diff.firstDivergence;
  if (first) {
    // The stop is in the baseline's numbering (the diff walks run A): the same phase, at the matched layer here.
    const layer = first.stop.layer >= 0 ? (toB.get(first.stop.layer)?.b ?? -1) : -1;
    const stops = phaseStops(layers.length);
    const phaseIndex = Math.max(0, stops.findIndex((s) => s.phase === first.stop.phase && s.layer === layer));
    divergence = {
      step: first.step,
      phaseIndex,
      layer,
      where: describeStop({ phase: first.stop.phase, layer }, layers.map((l) => l.name)),
      differences: first.differences.slice(0, SHOWN_DIFFERENCES).map(describeForPanel),
      moreDifferences: Math.max(0, first.differences.length - SHOWN_DIFFERENCES),
    };
  }
  return {
    type: 'compare',
    baselineDir: baseline.dir,
    baselineLabel: baselineLabel(baseline),
    baselineCurve: baseline.curve(),
    baselineStepCount: baseline.stepCount,
    tolerance: diff.tolerance,
    identical: diff.identical,
    sharedSteps: diff.sharedSteps,
    divergence,
    layers: compared,
    baselineOnly: diff.layers.onlyA,
    notes: diff.notes,
  };
}

/**
 * One panel's comparison: the baseline it holds open, the tolerance the user set, and the diff,
 * brought up to date with the steps a live run records since (each step compared once), and
 * computed again from the start only when the tolerance changes.
 */
/** How long one slice of a comparison may keep the extension host's thread: a long run's first comparison takes seconds. */
const SLICE_MS = 30;

export class PanelComparison {
  private differ: RunDiffer | undefined;
  private cached: { diff: RunDiff; steps: number } | undefined;
  private closed = false;

  constructor(
    private readonly run: DiffableRun,
    readonly baseline: TraceReader,
    private tolerance = 0,
  ) {}

  setTolerance(tolerance: number): void {
    if (!(tolerance >= 0) || !Number.isFinite(tolerance)) throw new RangeError(`tolerance must be a finite number ≥ 0, got ${tolerance}`);
    if (tolerance === this.tolerance) return;
    this.tolerance = tolerance;
    this.differ = undefined;
    this.cached = undefined;
  }

  get diff(): RunDiff {
    return this.advance(Infinity).diff;
  }

  /** Brings the diff up to date, as far as `deadline` allows (a performance.now() time); `done` once it caught up. */
  private advance(deadline: number): { diff: RunDiff; done: boolean } {
    const c = this.cached;
    if (c && c.steps === this.run.stepCount) return { diff: c.diff, done: true };
    this.differ ??= new RunDiffer(this.baseline, this.run, { tolerance: this.tolerance });
    const diff = this.differ.update(deadline);
    if (!this.differ.caughtUp) return { diff, done: false };
    this.cached = { diff, steps: this.run.stepCount };
    return { diff, done: true };
  }

  /**
   * The diff brought up to date in slices of SLICE_MS, the event loop running between them, with
   * how many shared steps are compared so far; rejects once the comparison is closed.
   */
  async settle(progress?: (compared: number) => void): Promise<RunDiff> {
    for (;;) {
      if (this.closed) throw new Error('the comparison was closed');
      const { diff, done } = this.advance(performance.now() + SLICE_MS);
      if (done) return diff;
      progress?.(diff.sharedSteps);
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  message(): CompareRun {
    return compareMessage(this.diff, this.baseline, this.run.meta.model.layers);
  }

  /** The baseline's record of `step`, none when the baseline has no such step. */
  baselineStep(step: number): BaselineStepData {
    if (this.baseline.positionOf(step) < 0) return { type: 'baselineStepData', step };
    return { type: 'baselineStepData', step, record: this.baseline.readStep(step) };
  }

  close(): void {
    this.closed = true;
    this.baseline.close();
  }
}
