// What the user and the host ask for, turned into model changes: navigation over steps and
// phases, loading step records (latest wins, a few cached), histories of the selected layer,
// playback, live control, and the state VS Code keeps across reloads.
import { keyframeAtOrBefore } from '../src/shared/keyframeContents';
import type { AtPhase, ControlAction, HistorySeries, InitRun, PanelState, RunProgress, ToWebview } from '../src/shared/protocol';
import type { StepRecord, TensorRole } from '../src/shared/traceTypes';
import type { HostChannel, VsCodeApi } from './hostChannel';
import { normalizeRecord } from './records';
import { SPEEDS, controllable, historyKey, type Store } from './state';
import { StepCache } from './stepCache';

/** Curve points kept for a live run; older points are thinned to keep memory flat. */
const MAX_CURVE_POINTS = 4000;
const HISTORY_COLUMNS = 240;
const HISTORY_REFRESH_MS = 3000;

export class PanelController {
  private readonly cache = new StepCache(8);
  /** What the held step has computed so far, while the trace does not hold it (see Store.heldStep). */
  private held: StepRecord | undefined;
  private wantedStep = -1;
  private stepInFlight = false;
  private paramInFlight = -1;
  private playTimer: ReturnType<typeof setTimeout> | undefined;
  private saved: PanelState | undefined;
  /** The comparison saved before a reload, kept in the state until the host restores it or says why not. */
  private savedCompare: PanelState['compare'];
  private historyRequested = 0;
  /** The baseline step the compare view wants, and whether a request for one is out. */
  private wantedBaseline = -1;
  private baselineInFlight = false;

  constructor(
    private readonly store: Store,
    private readonly channel: HostChannel,
    private readonly api: VsCodeApi,
  ) {
    this.saved = asPanelState(api.getState());
    this.savedCompare = this.saved?.compare;
    channel.onMessage((body) => this.onHostMessage(body));
    store.subscribe((model, changed) => {
      // Stepping through phases, the layer card follows the layer the phase concerns, as a
      // debugger's variables follow the current frame.
      if (changed.has('phaseIndex')) {
        const stop = store.currentStop();
        if (stop.layer >= 0) this.selectLayer(stop.layer, false);
      }
      if (changed.has('step') || changed.has('phaseIndex') || changed.has('selectedLayer') || changed.has('runDir') || changed.has('compare')) {
        this.persist();
      }
      if ((changed.has('step') || changed.has('compare')) && model.compare) this.loadBaseline(model.step);
    });
  }

  start(): void {
    this.channel.post({ type: 'ready' });
  }

  // -------------------------------------------------------------------------------------------
  // Host messages

  private onHostMessage(body: ToWebview): void {
    switch (body.type) {
      case 'init':
        this.onInit(body);
        break;
      case 'progress':
        this.onProgress(body);
        break;
      case 'selectLayer':
        this.selectLayer(body.layer, false);
        break;
      case 'goTo':
        this.goTo(body.step, body.phaseIndex, false);
        break;
      case 'stepData':
        // An unsolicited record (a live run's newest step): cache it, show it if it is wanted.
        this.acceptRecord(normalizeRecord(body.record));
        break;
      case 'history':
        this.acceptHistory(body);
        break;
      case 'compare':
        // A new comparison (or the same with another tolerance): the baseline's records stay valid
        // only when the baseline is the same run.
        if (this.store.state.compare?.baselineDir !== body.baselineDir) this.store.set({ baseline: undefined });
        this.savedCompare = undefined;
        this.store.set({ compare: body, compareNotice: '' });
        break;
      case 'compareEnded':
        this.savedCompare = undefined;
        this.store.set({ compare: undefined, baseline: undefined, compareNotice: body.notice ?? '' });
        break;
      case 'baselineStepData':
        // Only ever a reply (the channel hands it to its request).
        break;
    }
  }

  private onInit(init: InitRun): void {
    const s = this.store;
    const runDir = init.runDir;
    const sameRun = s.state.meta?.runId === init.meta.runId;
    if (!sameRun) this.cache.clear();
    const layerCount = init.meta.model.layers.length;
    s.set({
      meta: init.meta,
      runDir,
      curve: init.curve,
      stepCount: init.stepCount,
      fullTensorSteps: init.fullTensorSteps,
      runState: init.state,
      live: init.live,
      error: init.error,
      atPhase: undefined,
      notice: '',
      ...(sameRun ? {} : { record: undefined, paramRecord: undefined, histories: new Map() }),
    });
    const [first, last] = s.stepRange();
    const stopCount = s.stops().length;
    // A live run opens at its newest step, complete (its last phase); a recording, or a live run
    // that has recorded nothing yet, at its start.
    let step = init.live ? last : first;
    let phaseIndex = init.live && init.stepCount > 0 ? stopCount - 1 : 0;
    let selectedLayer = 0;
    const saved = this.saved;
    if (saved && saved.runDir === runDir) {
      step = saved.step;
      phaseIndex = saved.phaseIndex;
      selectedLayer = saved.selectedLayer;
    } else if (sameRun) {
      ({ step, phaseIndex, selectedLayer } = s.state);
    }
    this.saved = undefined;
    s.set({
      step: clamp(step, first, last),
      phaseIndex: clamp(phaseIndex, 0, stopCount - 1),
      selectedLayer: clamp(selectedLayer, 0, Math.max(0, layerCount - 1)),
    });
    this.persist();
    if (init.stepCount > 0) this.loadStep(s.state.step);
    this.requestHistories(true);
  }

  private onProgress(p: RunProgress): void {
    const s = this.store;
    const [, lastBefore] = s.stepRange();
    const following = s.state.live && s.state.step >= lastBefore;
    let curve = s.state.curve;
    if (p.entries.length > 0) {
      const lastKnown = curve[curve.length - 1]?.step ?? -Infinity;
      curve = curve.concat(p.entries.filter((e) => e.step > lastKnown));
      if (curve.length > MAX_CURVE_POINTS) curve = curve.filter((_, i) => i % 2 === 0 || i === curve.length - 1);
    }
    s.set({ curve, stepCount: p.stepCount, runState: p.state, atPhase: p.atPhase, error: p.error ?? s.state.error, ...(p.fullTensorSteps ? { fullTensorSteps: p.fullTensorSteps } : {}) });
    const heldStep = s.heldStep();
    this.held = heldStep !== undefined && p.atPhase?.record ? normalizeRecord(p.atPhase.record) : undefined;
    if (following) {
      // Sitting at the newest step of a live run: keep up with the runner. Where it holds
      // mid-step, the diagram shows that phase with what the step has computed so far.
      const [, last] = s.stepRange();
      const heldAt = p.atPhase ? this.stopIndexOf(p.atPhase) : -1;
      // Held: where the runner holds. Running: the newest step is complete, so its last phase.
      const phaseIndex = heldAt >= 0 ? heldAt : p.state === 'paused' ? s.state.phaseIndex : s.stops().length - 1;
      if (this.held) {
        this.wantedStep = this.held.step;
        s.set({ step: this.held.step, phaseIndex, record: this.held, loading: false, notice: '' });
      } else if (last !== s.state.step || phaseIndex !== s.state.phaseIndex) {
        if (s.state.stepCount > 0) this.goTo(last, phaseIndex, false);
        else s.set({ phaseIndex });
      }
    }
    if (performance.now() - this.historyRequested > HISTORY_REFRESH_MS) this.requestHistories(false);
  }

  /**
   * A held live run, shown where the runner holds: there is nothing further to show yet. (Inside
   * the held step, behind the runner's phase, "next" walks what the step has computed.)
   */
  private atLiveEdge(): boolean {
    const s = this.store.state;
    if (!controllable(s) || s.runState !== 'paused' || s.playing) return false;
    const heldStep = this.store.heldStep();
    if (heldStep !== undefined && s.atPhase) return s.step === heldStep && s.phaseIndex >= this.stopIndexOf(s.atPhase);
    return s.stepCount === 0 || s.step >= this.store.stepRange()[1];
  }

  private stopIndexOf(at: AtPhase): number {
    return this.store.stops().findIndex((stop) => stop.phase === at.phase && (stop.layer === at.layer || stop.layer < 0));
  }

  // -------------------------------------------------------------------------------------------
  // Navigation

  /**
   * Shows a position. `fromUser`: the user moved here in the panel, so the editor's inline
   * values and hovers follow (a position the host sent, or following a live run, is not echoed).
   */
  goTo(step: number, phaseIndex = this.store.state.phaseIndex, fromUser = true): void {
    const s = this.store;
    if (!s.state.meta || !s.hasStepToShow()) return;
    const [first, last] = s.stepRange();
    const held = this.held;
    // The held step is the last one there is to show; its phases only up to where the runner is.
    const next = clamp(Math.round(step), s.state.stepCount > 0 ? first : (held?.step ?? first), held?.step ?? last);
    const lastStop = held?.step === next && s.state.atPhase ? this.stopIndexOf(s.state.atPhase) : s.stops().length - 1;
    s.set({ step: next, phaseIndex: clamp(phaseIndex, 0, lastStop) });
    if (held?.step === next) {
      this.wantedStep = next;
      this.show(held);
    } else {
      this.loadStep(next);
    }
    if (fromUser) this.channel.post({ type: 'position', step: next, phaseIndex: s.state.phaseIndex });
  }

  nextPhase(): boolean {
    const { phaseIndex, step } = this.store.state;
    if (this.atLiveEdge()) {
      // Past what is recorded, "next" asks the held runner to go on, like a debugger's step.
      this.control('stepPhase');
      return true;
    }
    if (phaseIndex + 1 < this.store.stops().length) {
      this.goTo(step, phaseIndex + 1);
      return true;
    }
    if (step < (this.store.heldStep() ?? this.store.stepRange()[1])) {
      this.goTo(step + 1, 0);
      return true;
    }
    return false;
  }

  prevPhase(): void {
    const { phaseIndex, step } = this.store.state;
    if (phaseIndex > 0) this.goTo(step, phaseIndex - 1);
    else if (step > this.store.stepRange()[0]) this.goTo(step - 1, this.store.stops().length - 1);
  }

  nextStep(): boolean {
    const { step } = this.store.state;
    if (this.atLiveEdge()) {
      this.control('stepBatch');
      return true;
    }
    if (step >= (this.store.heldStep() ?? this.store.stepRange()[1])) return false;
    this.goTo(step + 1);
    return true;
  }

  prevStep(): void {
    this.goTo(this.store.state.step - 1);
  }

  first(): void {
    this.goTo(this.store.stepRange()[0], 0);
  }

  last(): void {
    this.goTo(this.store.heldStep() ?? this.store.stepRange()[1], this.store.stops().length - 1);
  }

  selectLayer(layer: number, fromUser = true): void {
    const layers = this.store.state.meta?.model.layers ?? [];
    if (layer < 0 || layer >= layers.length) return;
    if (layer !== this.store.state.selectedLayer) {
      this.store.set({ selectedLayer: layer, histories: new Map() });
      this.requestHistories(true);
    }
    if (fromUser) this.channel.post({ type: 'layerSelected', layer });
  }

  // -------------------------------------------------------------------------------------------
  // Comparing with a baseline run

  /** Shows where the runs first differ (the host placed it in this run's phase walk). */
  jumpToDivergence(): void {
    const d = this.store.state.compare?.divergence;
    if (!d) return;
    this.goTo(d.step, d.phaseIndex);
    if (d.layer >= 0) this.selectLayer(d.layer);
  }

  /** Compare again with this tolerance: the host recomputes the diff and sends it. */
  setTolerance(tolerance: number): void {
    this.channel.post({ type: 'compareTolerance', tolerance });
  }

  compareAction(action: 'close' | 'report'): void {
    this.channel.post({ type: 'compareAction', action });
  }

  /** One baseline request at a time; when it returns, fetch whatever step is wanted by then (latest wins). */
  private loadBaseline(step: number): void {
    this.wantedBaseline = step;
    if (this.store.state.baseline?.step === step || this.baselineInFlight) return;
    this.baselineInFlight = true;
    this.channel
      .request({ type: 'requestBaselineStep', step })
      .then((reply) => {
        if (reply.step === this.wantedBaseline && this.store.state.compare) {
          this.store.set({ baseline: { step: reply.step, record: reply.record ? normalizeRecord(reply.record) : undefined } });
        }
      })
      .catch((error: Error) => this.store.set({ notice: `Could not load the baseline's step ${step}: ${error.message}` }))
      .finally(() => {
        this.baselineInFlight = false;
        if (this.wantedBaseline !== step && this.store.state.compare) this.loadBaseline(this.wantedBaseline);
      });
  }

  // -------------------------------------------------------------------------------------------
  // Playback

  togglePlay(): void {
    this.setPlaying(!this.store.state.playing);
  }

  setPlaying(playing: boolean): void {
    if (playing === this.store.state.playing) return;
    this.store.set({ playing });
    if (playing) this.scheduleTick();
    else if (this.playTimer !== undefined) clearTimeout(this.playTimer);
  }

  setSpeed(index: number): void {
    this.store.set({ speed: clamp(index, 0, SPEEDS.length - 1) });
  }

  private scheduleTick(): void {
    const speed = SPEEDS[this.store.state.speed] ?? SPEEDS[0];
    this.playTimer = setTimeout(() => this.tick(), 1000 / speed.perSecond);
  }

  private tick(): void {
    const s = this.store.state;
    if (!s.playing) return;
    const speed = SPEEDS[s.speed] ?? SPEEDS[0];
    // Stepping faster than records arrive would only queue requests: wait for the one in flight.
    if (!s.loading) {
      const moved = speed.unit === 'phase' ? this.nextPhase() : this.nextStep();
      if (!moved && !s.live) {
        this.setPlaying(false);
        return;
      }
    }
    this.scheduleTick();
  }

  // -------------------------------------------------------------------------------------------
  // Live control

  control(action: ControlAction | 'stop'): void {
    this.channel.post({ type: 'control', action });
  }

  // -------------------------------------------------------------------------------------------
  // Loading

  private loadStep(step: number): void {
    this.wantedStep = step;
    const cached = this.cache.get(step);
    if (cached) {
      this.show(cached);
      return;
    }
    this.store.set({ loading: true });
    if (!this.stepInFlight) this.fetchStep(step);
  }

  /** One step request at a time; when it returns, fetch whatever the user wants by then (latest wins). */
  private fetchStep(step: number): void {
    this.stepInFlight = true;
    this.channel
      .request({ type: 'requestStep', step })
      .then((reply) => this.acceptRecord(normalizeRecord(reply.record)))
      .catch((error: Error) => this.store.set({ notice: `Could not load step ${step}: ${error.message}`, loading: false }))
      .finally(() => {
        this.stepInFlight = false;
        const wanted = this.wantedStep;
        if (wanted !== step && !this.cache.get(wanted)) this.fetchStep(wanted);
      });
  }

  private acceptRecord(record: StepRecord): void {
    this.cache.put(record);
    if (record.step === this.wantedStep) this.show(record);
    if (record.step === this.paramInFlight) {
      this.paramInFlight = -1;
      if (this.keyframeFor(this.wantedStep) === record.step) this.store.set({ paramRecord: record });
    }
  }

  private show(record: StepRecord): void {
    this.store.set({ record, loading: false, notice: '' });
    this.loadParams(record);
  }

  /** Full weights are kept at keyframes: show the step's own, else those of the keyframe before it. */
  private loadParams(record: StepRecord): void {
    if (record.tensors.some((t) => t.role === 'param' && t.scope === 'full')) {
      this.store.set({ paramRecord: record });
      return;
    }
    const keyframe = this.keyframeFor(record.step);
    // A held step before its keyframe is written (step 0, say) has no full weights to show yet.
    if (keyframe > this.store.lastRecordedStep()) return;
    if (this.store.state.paramRecord?.step === keyframe) return;
    const cached = this.cache.get(keyframe);
    if (cached) {
      this.store.set({ paramRecord: cached });
      return;
    }
    if (this.paramInFlight === keyframe) return;
    this.paramInFlight = keyframe;
    this.channel
      .request({ type: 'requestStep', step: keyframe })
      .then((reply) => this.acceptRecord(normalizeRecord(reply.record)))
      .catch(() => {
        this.paramInFlight = -1;
      });
  }

  keyframeFor(step: number): number {
    const kept = this.store.state.fullTensorSteps;
    const [first] = this.store.stepRange();
    // The trace says which keyframes it kept (the budget thins them): the last at or before the step.
    if (kept) {
      const k = keyframeAtOrBefore(kept, step);
      return k >= 0 ? k : first;
    }
    const every = this.store.state.meta?.config.capture.keyframeEvery ?? 0;
    if (every <= 0) return first;
    return first + Math.floor((step - first) / every) * every;
  }

  /** Histories for the heat strips of the selected layer; `reset` drops the old layer's. */
  private requestHistories(reset: boolean): void {
    const s = this.store.state;
    const layer = s.meta?.model.layers[s.selectedLayer];
    if (!layer || s.stepCount === 0) return;
    this.historyRequested = performance.now();
    if (reset) this.store.set({ histories: new Map() });
    const main = layer.params[0]?.name;
    const wanted: { role: TensorRole; param?: string }[] = [{ role: 'activation' }, { role: 'gradActivation' }];
    if (main) wanted.push({ role: 'param', param: main }, { role: 'gradParam', param: main }, { role: 'delta', param: main });
    for (const w of wanted) {
      this.channel
        .request({ type: 'requestHistory', layer: layer.index, role: w.role, param: w.param, maxColumns: HISTORY_COLUMNS })
        .then((h) => this.acceptHistory(h))
        .catch(() => undefined);
    }
  }

  private acceptHistory(h: HistorySeries): void {
    const s = this.store.state;
    if (h.layer !== s.meta?.model.layers[s.selectedLayer]?.index) return;
    const histories = new Map(s.histories);
    histories.set(historyKey(h.layer, h.role, h.param), h);
    this.store.set({ histories });
  }

  private persist(): void {
    const s = this.store.state;
    if (!s.meta) return;
    const compare = s.compare ? { baselineDir: s.compare.baselineDir, tolerance: s.compare.tolerance } : this.savedCompare;
    const state: PanelState = { runDir: s.runDir, step: s.step, phaseIndex: s.phaseIndex, selectedLayer: s.selectedLayer, ...(compare ? { compare } : {}) };
    this.api.setState(state);
  }
}

function clamp(x: number, lo: number, hi: number): number {
  if (!Number.isFinite(x)) return lo;
  return Math.max(lo, Math.min(hi, x));
}

function asPanelState(v: unknown): PanelState | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const p = v as Partial<PanelState>;
  if (typeof p.runDir !== 'string' || typeof p.step !== 'number') return undefined;
  const c = p.compare;
  const compare = c && typeof c.baselineDir === 'string' && typeof c.tolerance === 'number' ? { baselineDir: c.baselineDir, tolerance: c.tolerance } : undefined;
  return { runDir: p.runDir, step: p.step, phaseIndex: p.phaseIndex ?? 0, selectedLayer: p.selectedLayer ?? 0, ...(compare ? { compare } : {}) };
}
