// Compares two recorded runs: where they first differ (step, phase, layer, value) and how much
// each layer's numbers changed over the steps they share. Runs are seeded and replayable, so
// two runs of the same file and seed agree bit for bit until an edit takes effect: the first
// divergence points at what the edit changed.
//
// Tolerance: two numbers a, b agree when a === b (both NaN also agree), or, with tolerance
// t > 0, when |a − b| ≤ t · max(1, |a|, |b|): relative for values above 1, absolute below, so
// rounding noise on near-zero quantities (a softmax gradient's mean is ~1e-10) is not flagged.
// With t = 0 the histograms must match bin for bin too; with t > 0 they are not compared (a
// value moving by a rounding step can change bins).
import { roleSymbol } from '../shared/format';
import { describeStop, phaseStops } from '../shared/phases';
import type { PhaseStop } from '../shared/phases';
import type { LayerInfo, RunMeta, StepIndexEntry, StepRecord, TensorRole, TensorStats, TensorSummary } from '../shared/traceTypes';

/** What the diff reads of a run: a TraceReader, or anything shaped like one. */
export interface DiffableRun {
  readonly meta: RunMeta;
  readonly stepCount: number;
  entry(i: number): StepIndexEntry;
  readStep(step: number): StepRecord;
}

export interface DiffOptions {
  /** 0 (the default): exact. See the module comment for what a tolerance means. */
  tolerance?: number;
  /**
   * Compare only the first this many shared steps (default: all). A comparison that runs by
   * itself, in the editor after every rerun, keeps its cost bounded so; it is never "identical".
   */
  maxSteps?: number;
}

export interface MatchedLayer {
  a: number;
  b: number;
  nameA: string;
  nameB: string;
}

export interface LayerMatching {
  matched: MatchedLayer[];
  /** Layers of run A with no counterpart in B, and the reverse (index and name). */
  onlyA: { index: number; name: string }[];
  onlyB: { index: number; name: string }[];
}

/** One quantity that differs: a statistic of a tensor ("activation mean"), or a step metric ("loss"). */
export interface ValueDifference {
  quantity: string;
  /** Undefined when the run did not capture it. */
  a?: number;
  b?: number;
  /** For a shape or histogram mismatch, the two sides in words. */
  detail?: string;
}

export interface Divergence {
  step: number;
  /** The stop in run A's walk order (layer in A's numbering; -1 for loss and update). */
  stop: PhaseStop;
  /** "forward · dense_Dense1", "loss", "update". */
  where: string;
  /** Every quantity that differs at this stop, in walk order; the first is the first divergence. */
  differences: ValueDifference[];
}

/** How far one tensor of a matched layer moved between the runs, at most, over the shared steps. */
export interface TensorChange {
  /** Layer index in run A (-1 for the loss's tensors). */
  layer: number;
  layerName: string;
  role: TensorRole;
  param?: string;
  /** "a", "∂L/∂W", "ΔW"… (the panel's symbols) */
  label: string;
  /** max |Δmean| / max(std, |mean|) of either run: the shift of the mean measured in the tensor's own scale. */
  meanShift: number;
  /** max |Δstd| / max(std) and max |ΔL2| / max(L2): relative changes. */
  stdChange: number;
  l2Change: number;
  /** The step at which the largest of the three was reached. */
  atStep: number;
  /** The first shared step at which this tensor differed (beyond the tolerance); undefined when it never did. */
  firstDifferentStep?: number;
}

export interface MetricChange {
  metric: 'loss' | 'accuracy' | 'testAccuracy' | 'testLoss';
  /** Largest |a − b| / max(|a|, |b|) over the shared steps where both recorded it. */
  maxRelative: number;
  atStep: number;
}

export interface RunDiff {
  identical: boolean;
  tolerance: number;
  stepsA: number;
  stepsB: number;
  sharedSteps: number;
  layers: LayerMatching;
  firstDivergence?: Divergence;
  /** One row per tensor of each matched layer, in walk order of the layers. */
  changes: TensorChange[];
  metrics: MetricChange[];
  /** What else differs between the runs (file, seed, backend, step counts…), in words. */
  notes: string[];
}

const FORWARD_ROLES: TensorRole[] = ['input', 'preactivation', 'activation'];
const BACKWARD_ROLES: TensorRole[] = ['gradActivation', 'gradPreactivation', 'gradParam'];
const UPDATE_ROLES: TensorRole[] = ['param', 'delta'];
const ROLE_ORDER: TensorRole[] = [...FORWARD_ROLES, ...BACKWARD_ROLES, ...UPDATE_ROLES];

const STAT_KEYS = ['mean', 'std', 'min', 'max', 'l2', 'zeroFraction', 'nanCount', 'infCount', 'count', 'deadUnitFraction'] as const;

/** Whether a and b agree within `tolerance` (module comment). */
export function agrees(a: number, b: number, tolerance: number): boolean {
  if (a === b || (Number.isNaN(a) && Number.isNaN(b))) return true;
  if (tolerance === 0 || !Number.isFinite(a) || !Number.isFinite(b)) return false;
  return Math.abs(a - b) <= tolerance * Math.max(1, Math.abs(a), Math.abs(b));
}

/** |a − b| / scale, 0 when they are equal, Infinity when only one is finite or the scale is 0. */
function relative(a: number, b: number, scale: number): number {
  if (a === b || (Number.isNaN(a) && Number.isNaN(b))) return 0;
  const r = Math.abs(a - b) / scale;
  return Number.isFinite(r) ? r : Infinity;
}

const sameLayer = (x: LayerInfo, y: LayerInfo) => x.name === y.name && x.type === y.type;
const sameShape = (x: LayerInfo, y: LayerInfo) =>
  x.type === y.type && JSON.stringify(x.params.map((p) => p.shape)) === JSON.stringify(y.params.map((p) => p.shape));

/**
 * Pairs the layers of two models: the longest order-preserving run of layers with the same name
 * and type (so an inserted or removed layer leaves the rest matched), then, between two such
 * anchors, layers at the same position with the same type and parameter shapes (a renamed layer).
 */
export function matchLayers(a: LayerInfo[], b: LayerInfo[]): LayerMatching {
  const n = a.length;
  const m = b.length;
  const lcs = Array.from({ length: n + 1 }, () => new Int32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i][j] = sameLayer(a[i], b[j]) ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const anchors: [number, number][] = [];
  for (let i = 0, j = 0; i < n && j < m; ) {
    if (sameLayer(a[i], b[j])) anchors.push([i++, j++]);
    else if (lcs[i + 1][j] >= lcs[i][j + 1]) i++;
    else j++;
  }
  const pairs: [number, number][] = [];
  let prevA = -1;
  let prevB = -1;
  for (const [ai, bi] of [...anchors, [n, m] as [number, number]]) {
    for (let k = 1; prevA + k < ai && prevB + k < bi; k++) {
      if (!sameShape(a[prevA + k], b[prevB + k])) break;
      pairs.push([prevA + k, prevB + k]);
    }
    if (ai < n) pairs.push([ai, bi]);
    prevA = ai;
    prevB = bi;
  }
  const usedA = new Set(pairs.map(([i]) => i));
  const usedB = new Set(pairs.map(([, j]) => j));
  return {
    matched: pairs.map(([i, j]) => ({ a: i, b: j, nameA: a[i].name, nameB: b[j].name })),
    onlyA: a.map((l, i) => ({ index: i, name: l.name })).filter((l) => !usedA.has(l.index)),
    onlyB: b.map((l, j) => ({ index: j, name: l.name })).filter((l) => !usedB.has(l.index)),
  };
}

const keyOf = (role: TensorRole, param?: string) => `${role}|${param ?? ''}`;

type SummariesByLayer = Map<number, Map<string, TensorSummary>>;

/** A record's summaries by layer, then by role and param. */
function byLayer(record: StepRecord): SummariesByLayer {
  const out: SummariesByLayer = new Map();
  for (const s of record.summaries) {
    let mine = out.get(s.layer);
    if (!mine) out.set(s.layer, (mine = new Map()));
    mine.set(keyOf(s.role, s.param), s);
  }
  return out;
}

function statDifferences(label: string, a: TensorStats, b: TensorStats, tolerance: number): ValueDifference[] {
  const out: ValueDifference[] = [];
  for (const k of STAT_KEYS) {
    const x = a[k];
    const y = b[k];
    if (x === undefined && y === undefined) continue;
    if (x === undefined || y === undefined || !agrees(x, y, tolerance)) out.push({ quantity: `${label} ${k}`, a: x, b: y });
  }
  if (tolerance === 0 && out.length === 0) {
    const bin = a.histogram.findIndex((v, i) => v !== b.histogram[i]);
    if (bin >= 0) out.push({ quantity: `${label} histogram`, a: a.histogram[bin], b: b.histogram[bin], detail: `bin ${bin}: ${a.histogram[bin]} vs ${b.histogram[bin]} values` });
  }
  return out;
}

/** The differences between the tensors of one layer (or the loss, layer -1) in the given roles. */
function tensorDifferences(
  a: Map<string, TensorSummary> | undefined,
  b: Map<string, TensorSummary> | undefined,
  roles: TensorRole[],
  tolerance: number,
): ValueDifference[] {
  const out: ValueDifference[] = [];
  const inRoles = (s: TensorSummary) => roles.includes(s.role);
  const left = [...(a?.values() ?? [])].filter(inRoles);
  const right = [...(b?.values() ?? [])].filter(inRoles);
  for (const s of left) {
    const label = roleSymbol(s.role, s.param);
    const t = b?.get(keyOf(s.role, s.param));
    if (!t) {
      out.push({ quantity: label, detail: 'captured only in run A' });
      continue;
    }
    if (s.shape.join('×') !== t.shape.join('×')) {
      out.push({ quantity: `${label} shape`, detail: `[${s.shape.join('×')}] vs [${t.shape.join('×')}]` });
      continue;
    }
    if (s.stats && t.stats) out.push(...statDifferences(label, s.stats, t.stats, tolerance));
    else if (s.stats || t.stats) out.push({ quantity: `${label} statistics`, detail: `summarised only in run ${s.stats ? 'A' : 'B'}` });
  }
  for (const t of right) {
    if (!a?.has(keyOf(t.role, t.param))) out.push({ quantity: roleSymbol(t.role, t.param), detail: 'captured only in run B' });
  }
  return out;
}

function metricDifferences(a: StepRecord, b: StepRecord, keys: ('loss' | 'accuracy' | 'testLoss' | 'testAccuracy')[], tolerance: number): ValueDifference[] {
  const out: ValueDifference[] = [];
  for (const k of keys) {
    const x = a[k];
    const y = b[k];
    if (x === undefined && y === undefined) continue;
    if (x === undefined || y === undefined || !agrees(x, y, tolerance)) out.push({ quantity: k === 'testAccuracy' ? 'test accuracy' : k === 'testLoss' ? 'test loss' : k, a: x, b: y });
  }
  return out;
}

/** The first stop of one step, in walk order, where the two records differ. */
function firstDifferenceInStep(
  a: StepRecord,
  b: StepRecord,
  ta: SummariesByLayer,
  tb: SummariesByLayer,
  layersA: LayerInfo[],
  matchOf: Map<number, number>,
  tolerance: number,
): Divergence | undefined {
  const names = layersA.map((l) => l.name);
  for (const stop of phaseStops(layersA.length)) {
    let differences: ValueDifference[] = [];
    if (stop.phase === 'forward' || stop.phase === 'backward') {
      const other = matchOf.get(stop.layer);
      if (other === undefined) continue;
      differences = tensorDifferences(ta.get(stop.layer), tb.get(other), stop.phase === 'forward' ? FORWARD_ROLES : BACKWARD_ROLES, tolerance);
    } else if (stop.phase === 'loss') {
      differences = metricDifferences(a, b, ['loss', 'accuracy'], tolerance);
    } else {
      for (const [la, lb] of matchOf) differences.push(...tensorDifferences(ta.get(la), tb.get(lb), UPDATE_ROLES, tolerance).map((d) => ({ ...d, quantity: `${names[la]} ${d.quantity}` })));
      differences.push(...metricDifferences(a, b, ['testLoss', 'testAccuracy'], tolerance));
    }
    if (differences.length > 0) return { step: a.step, stop, where: describeStop(stop, names), differences };
  }
  return undefined;
}

/** Running maxima of one tensor's change over the shared steps. */
class ChangeTracker {
  private readonly rows = new Map<string, TensorChange>();

  constructor(private readonly tolerance: number) {}

  add(step: number, layer: number, layerName: string, s: TensorSummary, t: TensorSummary): void {
    if (!s.stats || !t.stats) return;
    const key = `${layer}|${keyOf(s.role, s.param)}`;
    let row = this.rows.get(key);
    if (!row) {
      row = { layer, layerName, role: s.role, param: s.param, label: roleSymbol(s.role, s.param), meanShift: 0, stdChange: 0, l2Change: 0, atStep: step };
      this.rows.set(key, row);
    }
    const x = s.stats;
    const y = t.stats;
    const meanShift = relative(x.mean, y.mean, Math.max(x.std, y.std, Math.abs(x.mean), Math.abs(y.mean)));
    const stdChange = relative(x.std, y.std, Math.max(x.std, y.std));
    const l2Change = relative(x.l2, y.l2, Math.max(x.l2, y.l2));
    const biggest = Math.max(meanShift, stdChange, l2Change);
    if (biggest > Math.max(row.meanShift, row.stdChange, row.l2Change)) row.atStep = step;
    row.meanShift = Math.max(row.meanShift, meanShift);
    row.stdChange = Math.max(row.stdChange, stdChange);
    row.l2Change = Math.max(row.l2Change, l2Change);
    if (row.firstDifferentStep === undefined && statDifferences('', x, y, this.tolerance).length > 0) row.firstDifferentStep = step;
  }

  /** Rows in walk order: by layer (the loss's tensors after the forward pass), then role. */
  result(order: (layer: number) => number): TensorChange[] {
    return [...this.rows.values()].map((row) => ({ ...row })).sort(
      (p, q) => order(p.layer) - order(q.layer) || ROLE_ORDER.indexOf(p.role) - ROLE_ORDER.indexOf(q.role) || (p.param ?? '').localeCompare(q.param ?? ''),
    );
  }
}

function metaNotes(a: RunMeta, b: RunMeta): string[] {
  const notes: string[] = [];
  const differ = (what: string, x: unknown, y: unknown) => {
    if (JSON.stringify(x) !== JSON.stringify(y)) notes.push(`${what}: ${String(x)} vs ${String(y)}`);
  };
  differ('file', a.file, b.file);
  differ('backend', a.backend.name, b.backend.name);
  differ('seed', a.config.seed, b.config.seed);
  differ('batch size', a.config.batchSize, b.config.batchSize);
  differ('loss', a.config.loss, b.config.loss);
  differ('optimizer', a.config.optimizer, b.config.optimizer);
  differ('learning rate', a.config.learningRate, b.config.learningRate);
  return notes;
}

function emptyMetric(metric: MetricChange['metric']): MetricChange {
  return { metric, maxRelative: 0, atStep: -1 };
}

/** The diff of two complete runs. */
export function diffRuns(a: DiffableRun, b: DiffableRun, options: DiffOptions = {}): RunDiff {
  return new RunDiffer(a, b, options).update();
}

/** The same, in slices of `sliceMs` with the event loop turning between them: for the extension host, which must not freeze. */
export async function diffRunsInSlices(a: DiffableRun, b: DiffableRun, options: DiffOptions = {}, sliceMs = 30): Promise<RunDiff> {
  const differ = new RunDiffer(a, b, options);
  for (;;) {
    const diff = differ.update(performance.now() + sliceMs);
    if (differ.caughtUp) return diff;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/**
 * A diff kept up to date while a run records more steps (the panel compares a live run with its
 * baseline): each update reads only the steps it has not compared yet. Rereading both traces on
 * every refresh made a refresh cost the whole run so far — seconds on the extension host's thread
 * for a few thousand steps. The steps of each run come in increasing order, as traces hold them.
 */
export class RunDiffer {
  private readonly tolerance: number;
  private readonly layers: LayerMatching;
  private readonly matchOf: Map<number, number>;
  private readonly tracker: ChangeTracker;
  private readonly metrics = new Map<MetricChange['metric'], MetricChange>((['loss', 'accuracy', 'testLoss', 'testAccuracy'] as const).map((k) => [k, emptyMetric(k)]));
  private readonly maxSteps: number;
  private firstDivergence: Divergence | undefined;
  private shared = 0;
  private limited = false;
  /** The next entry of `a` to compare, and how much of `b`'s index is known. */
  private nextA = 0;
  private indexedB = 0;
  private lastStepB = -1;
  private readonly stepsB = new Set<number>();

  constructor(
    private readonly a: DiffableRun,
    private readonly b: DiffableRun,
    options: DiffOptions = {},
  ) {
    const tolerance = options.tolerance ?? 0;
    if (!(tolerance >= 0) || !Number.isFinite(tolerance)) throw new RangeError(`tolerance must be a finite number ≥ 0, got ${tolerance}`);
    this.tolerance = tolerance;
    this.maxSteps = options.maxSteps ?? Infinity;
    this.layers = matchLayers(a.meta.model.layers, b.meta.model.layers);
    this.matchOf = new Map(this.layers.matched.map((p) => [p.a, p.b]));
    this.tracker = new ChangeTracker(tolerance);
  }

  /** False while steps both runs hold are still to compare (the last update ran out of time). */
  caughtUp = false;

  /**
   * Compares the steps both runs hold that were not compared yet, or as many as it can before
   * `deadline` (a performance.now() time; `caughtUp` says which); the diff so far.
   */
  update(deadline = Infinity): RunDiff {
    const { a, b } = this;
    for (; this.indexedB < b.stepCount; this.indexedB++) {
      const step = b.entry(this.indexedB).step;
      this.stepsB.add(step);
      this.lastStepB = Math.max(this.lastStepB, step);
    }
    this.caughtUp = true;
    while (this.nextA < a.stepCount && !this.limited) {
      const step = a.entry(this.nextA).step;
      // A step `b` has not reached yet: compared when it records it.
      if (step > this.lastStepB) break;
      if (this.stepsB.has(step)) {
        if (this.shared >= this.maxSteps) {
          this.limited = true;
          break;
        }
        this.shared++;
        this.compareStep(step);
      }
      this.nextA++;
      if (this.nextA < a.stepCount && performance.now() > deadline) {
        this.caughtUp = false;
        break;
      }
    }
    return this.result();
  }

  private compareStep(step: number): void {
    const ra = this.a.readStep(step);
    const rb = this.b.readStep(step);
    const ta = byLayer(ra);
    const tb = byLayer(rb);
    this.firstDivergence ??= firstDifferenceInStep(ra, rb, ta, tb, this.a.meta.model.layers, this.matchOf, this.tolerance);
    const pairs: [number, number, string][] = [[-1, -1, 'loss'], ...this.layers.matched.map((p): [number, number, string] => [p.a, p.b, p.nameA])];
    for (const [la, lb, name] of pairs) {
      const mine = ta.get(la);
      const theirs = tb.get(lb);
      if (!mine || !theirs) continue;
      for (const [key, s] of mine) {
        const t = theirs.get(key);
        if (t) this.tracker.add(step, la, name, s, t);
      }
    }
    for (const m of this.metrics.values()) {
      const x = ra[m.metric];
      const y = rb[m.metric];
      if (x === undefined || y === undefined) continue;
      const r = relative(x, y, Math.max(Math.abs(x), Math.abs(y)));
      if (m.atStep < 0 || r > m.maxRelative) {
        m.maxRelative = r;
        m.atStep = step;
      }
    }
  }

  /** The diff as it stands: a snapshot, which later updates do not change. */
  private result(): RunDiff {
    const { a, b, shared, layers } = this;
    const notes = metaNotes(a.meta, b.meta);
    if (this.limited) notes.push(`compared on the first ${shared} shared steps only`);
    if (a.stepCount !== b.stepCount) notes.push(`steps recorded: ${a.stepCount} vs ${b.stepCount} (compared on the ${shared} they share)`);
    if (shared === 0 && a.stepCount + b.stepCount > 0) notes.push('the runs share no step');
    const layersA = a.meta.model.layers;
    // The loss's tensors come right after the last layer's forward pass.
    const order = (layer: number) => (layer < 0 ? layersA.length - 0.5 : layer);
    return {
      identical: !this.limited && this.firstDivergence === undefined && layers.onlyA.length === 0 && layers.onlyB.length === 0 && a.stepCount === b.stepCount,
      tolerance: this.tolerance,
      stepsA: a.stepCount,
      stepsB: b.stepCount,
      sharedSteps: shared,
      layers,
      firstDivergence: this.firstDivergence,
      changes: this.tracker.result(order),
      metrics: [...this.metrics.values()].filter((m) => m.atStep >= 0).map((m) => ({ ...m })),
      notes,
    };
  }
}
