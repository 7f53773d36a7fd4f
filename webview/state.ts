// The panel's model: what is loaded and where the user is. Views subscribe and are told which
// keys changed, at most once per animation frame, so each redraws only what changed.
import type { AtPhase, CompareRun, HistorySeries, RunState } from '../src/shared/protocol';
import type { RunError, RunMeta, StepIndexEntry, StepRecord } from '../src/shared/traceTypes';
import { phaseStops, type PhaseStop } from '../src/shared/phases';

export interface PanelModel {
  meta: RunMeta | undefined;
  /** Run directory the host named in init, else the run id: what PanelState persists. */
  runDir: string;
  curve: StepIndexEntry[];
  stepCount: number;
  /** Steps with full tensors (kept keyframes), when the host says; else the policy's keyframe grid is assumed. */
  fullTensorSteps: readonly number[] | undefined;
  runState: RunState;
  live: boolean;
  error: RunError | undefined;
  atPhase: AtPhase | undefined;
  step: number;
  phaseIndex: number;
  selectedLayer: number;
  /** The record on screen: the current step's once it arrived, the previous one meanwhile. */
  record: StepRecord | undefined;
  /** The record whose full parameters the heatmaps show (the step itself or its keyframe). */
  paramRecord: StepRecord | undefined;
  loading: boolean;
  playing: boolean;
  speed: number;
  /** Histories of the selected layer, keyed by `historyKey`. */
  histories: ReadonlyMap<string, HistorySeries>;
  /** A request failed (timeout): said in the status line. */
  notice: string;
  /** The comparison with a baseline run the host sent ("Compare with…"); undefined: not comparing. */
  compare: CompareRun | undefined;
  /** Why the comparison saved before a reload is not shown (the host's words); '' when none. */
  compareNotice: string;
  /** The baseline's record of a step (none when the baseline lacks that step), for the side-by-side table. */
  baseline: { step: number; record?: StepRecord } | undefined;
}

export type ModelKey = keyof PanelModel;

export const SPEEDS: readonly { label: string; unit: 'phase' | 'step'; perSecond: number }[] = [
  { label: '1 phase/s', unit: 'phase', perSecond: 1 },
  { label: '3 phases/s', unit: 'phase', perSecond: 3 },
  { label: '1 step/s', unit: 'step', perSecond: 1 },
  { label: '5 steps/s', unit: 'step', perSecond: 5 },
  { label: '20 steps/s', unit: 'step', perSecond: 20 },
  { label: '60 steps/s', unit: 'step', perSecond: 60 },
];

const ENDED = new Set<RunState>(['finished', 'stopped', 'failed']);

/** A live run whose runner still listens to control. */
export function controllable(m: Readonly<PanelModel>): boolean {
  return m.live && !ENDED.has(m.runState);
}

export function historyKey(layer: number, role: string, param?: string): string {
  return `${layer}/${role}/${param ?? ''}`;
}

type Listener = (model: Readonly<PanelModel>, changed: ReadonlySet<ModelKey>) => void;

export class Store {
  private readonly model: PanelModel = {
    meta: undefined,
    runDir: '',
    curve: [],
    stepCount: 0,
    fullTensorSteps: undefined,
    runState: 'loading',
    live: false,
    error: undefined,
    atPhase: undefined,
    step: 0,
    phaseIndex: 0,
    selectedLayer: 0,
    record: undefined,
    paramRecord: undefined,
    loading: false,
    playing: false,
    speed: 1,
    histories: new Map(),
    notice: '',
    compare: undefined,
    compareNotice: '',
    baseline: undefined,
  };
  private readonly listeners: Listener[] = [];
  /** Time each subscriber took in the last flush, in subscription order (for profiling). */
  readonly listenerMs: number[] = [];
  private readonly dirty = new Set<ModelKey>();
  private frame = 0;
  private stopsCache: { count: number; stops: PhaseStop[] } = { count: -1, stops: [] };
  /** Called after each flush with the time the views took (ms); the tests read it. */
  onFlushed: ((ms: number, changed: ReadonlySet<ModelKey>) => void) | undefined;

  get state(): Readonly<PanelModel> {
    return this.model;
  }

  subscribe(listener: Listener): void {
    this.listeners.push(listener);
  }

  set(patch: Partial<PanelModel>): void {
    for (const key of Object.keys(patch) as ModelKey[]) {
      if (this.model[key] === patch[key]) continue;
      (this.model as unknown as Record<string, unknown>)[key] = patch[key];
      this.dirty.add(key);
    }
    if (this.dirty.size > 0 && this.frame === 0) this.frame = requestAnimationFrame(() => this.flush());
  }

  /** Draw now (the frame callback, or a test that wants the views current). */
  flush(): void {
    if (this.frame !== 0) cancelAnimationFrame(this.frame);
    this.frame = 0;
    if (this.dirty.size === 0) return;
    const changed = new Set(this.dirty);
    this.dirty.clear();
    const t0 = performance.now();
    let t = t0;
    this.listeners.forEach((listener, i) => {
      listener(this.model, changed);
      const now = performance.now();
      this.listenerMs[i] = now - t;
      t = now;
    });
    this.onFlushed?.(t - t0, changed);
  }

  /** Stops of one step for the current model: forward 0..n-1, loss, backward n-1..0, update. */
  stops(): PhaseStop[] {
    const count = this.model.meta?.model.layers.length ?? 0;
    if (this.stopsCache.count !== count) this.stopsCache = { count, stops: phaseStops(count) };
    return this.stopsCache.stops;
  }

  currentStop(): PhaseStop {
    const stops = this.stops();
    return stops[Math.min(this.model.phaseIndex, stops.length - 1)] ?? { phase: 'loss', layer: -1 };
  }

  /** First and last step numbers of the run. */
  stepRange(): [number, number] {
    const first = this.model.curve[0]?.step ?? 0;
    return [first, first + Math.max(0, this.model.stepCount - 1)];
  }

  /** The newest step the trace holds, or one before the first while it holds none. */
  lastRecordedStep(): number {
    const first = this.model.curve[0]?.step ?? 0;
    return first + this.model.stepCount - 1;
  }

  /**
   * The step a held live run is in, when the trace does not hold it yet: the panel shows what
   * the step has computed so far (the record the runner sent with atPhase).
   */
  heldStep(): number | undefined {
    const at = this.model.atPhase;
    return at?.record && at.step > this.lastRecordedStep() ? at.step : undefined;
  }

  /** Something to show at the current position: a recorded step, or the held step's partial record. */
  hasStepToShow(): boolean {
    return this.model.stepCount > 0 || this.heldStep() !== undefined;
  }
}
