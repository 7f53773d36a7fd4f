// The step-through bar: first / previous step / previous phase / play-pause / next phase / next
// step / last, a speed choice, a native range slider over the whole run (vscode-elements has no
// slider), the position in words, and for live runs the runner's state and its controls.
import { describeHold, describeStop } from '../src/shared/phases';
import type { PanelController } from './controller';
import { h, setHidden, setText } from './dom';
import { formatInt, formatNum, formatPercent } from '../src/shared/format';
import { SPEEDS, controllable, type ModelKey, type PanelModel, type Store } from './state';

interface ButtonSpec {
  id: string;
  icon: string;
  label: string;
  keys: string;
  run(): void;
}

function toolbarButton(spec: ButtonSpec): HTMLElement {
  const b = h('vscode-toolbar-button', {
    id: spec.id,
    icon: spec.icon,
    label: `${spec.label} (${spec.keys})`,
    title: `${spec.label} (${spec.keys})`,
    'aria-keyshortcuts': spec.keys.replace(/ /g, ''),
  });
  b.addEventListener('click', () => spec.run());
  return b;
}

export class StepBar {
  readonly el: HTMLElement;
  private readonly slider: HTMLInputElement;
  private readonly ticks: HTMLElement;
  private readonly playButton: HTMLElement;
  private readonly speed: HTMLSelectElement;
  private readonly position: HTMLElement;
  private readonly phaseText: HTMLElement;
  private readonly lossText: HTMLElement;
  private readonly liveBox: HTMLElement;
  private readonly liveState: HTMLElement;
  private readonly livePause: HTMLElement;
  private readonly liveControls: HTMLElement;

  constructor(
    private readonly store: Store,
    private readonly controller: PanelController,
  ) {
    const c = controller;
    const buttons = [
      { id: 'first', icon: 'arrow-circle-left', label: 'First step', keys: 'Home', run: () => c.first() },
      { id: 'prev-step', icon: 'arrow-left', label: 'Previous step', keys: 'Shift+Left', run: () => c.prevStep() },
      { id: 'prev-phase', icon: 'chevron-left', label: 'Previous phase', keys: 'Left', run: () => c.prevPhase() },
    ].map(toolbarButton);
    this.playButton = toolbarButton({ id: 'play', icon: 'play', label: 'Play', keys: 'Space', run: () => c.togglePlay() });
    const after = [
      { id: 'next-phase', icon: 'chevron-right', label: 'Next phase', keys: 'Right', run: () => c.nextPhase() },
      { id: 'next-step', icon: 'arrow-right', label: 'Next step', keys: 'Shift+Right', run: () => c.nextStep() },
      { id: 'last', icon: 'arrow-circle-right', label: 'Last step', keys: 'End', run: () => c.last() },
    ].map(toolbarButton);

    // A native select: it is keyboard-operable everywhere and themable with the same variables.
    this.speed = h('select', { id: 'speed', class: 'speed', 'aria-label': 'Playback speed (+ / −)' });
    SPEEDS.forEach((s, i) => this.speed.append(h('option', { value: i, text: s.label })));
    this.speed.value = String(store.state.speed);
    this.speed.addEventListener('change', () => c.setSpeed(Number(this.speed.value)));

    // Tick marks where full tensors are kept (the trace's keyframes): a datalist the slider draws.
    this.ticks = h('datalist', { id: 'full-tensor-steps' });
    this.slider = h('input', { id: 'step-slider', type: 'range', min: 0, max: 0, step: 1, value: 0, 'aria-label': 'Step', list: 'full-tensor-steps' });
    this.slider.addEventListener('input', () => c.goTo(Number(this.slider.value)));

    this.position = h('span', { class: 'position', id: 'position' });
    this.phaseText = h('span', { class: 'phase', id: 'phase' });
    this.lossText = h('span', { class: 'loss', id: 'loss' });
    const status = h('div', { class: 'status', id: 'status', role: 'status', 'aria-live': 'polite' }, this.position, this.phaseText, this.lossText);

    this.liveState = h('span', { class: 'live-state', id: 'live-state' });
    this.livePause = toolbarButton({ id: 'live-pause', icon: 'debug-pause', label: 'Pause the runner', keys: 'P', run: () => this.toggleRunner() });
    this.liveControls = h(
      'span',
      { class: 'live-controls' },
      this.livePause,
      toolbarButton({ id: 'live-step-phase', icon: 'debug-step-into', label: 'Runner: step one phase', keys: 'I', run: () => c.control('stepPhase') }),
      toolbarButton({ id: 'live-step-batch', icon: 'debug-step-over', label: 'Runner: step one batch', keys: 'O', run: () => c.control('stepBatch') }),
      toolbarButton({ id: 'live-stop', icon: 'debug-stop', label: 'Stop the run', keys: 'Shift+S', run: () => c.control('stop') }),
    );
    this.liveBox = h('div', { class: 'live', role: 'group', 'aria-label': 'Live run' }, this.liveState, this.liveControls);

    this.el = h(
      'section',
      { class: 'step-bar', 'aria-label': 'Step through' },
      h('div', { class: 'buttons', role: 'toolbar', 'aria-label': 'Step controls' }, ...buttons, this.playButton, ...after, this.speed),
      h('label', { class: 'slider' }, h('span', { class: 'visually-hidden', text: 'Step' }), this.slider, this.ticks),
      status,
      this.liveBox,
    );
    store.subscribe((model, changed) => this.update(model, changed));
  }

  focusSlider(): void {
    this.slider.focus();
  }

  private toggleRunner(): void {
    this.controller.control(this.store.state.runState === 'paused' ? 'continue' : 'pause');
  }

  private update(m: Readonly<PanelModel>, changed: ReadonlySet<ModelKey>): void {
    if (changed.has('curve') || changed.has('stepCount') || changed.has('meta')) {
      const [first, last] = this.store.stepRange();
      this.slider.min = String(first);
      this.slider.max = String(last);
      this.slider.disabled = m.stepCount === 0;
    }
    if (changed.has('fullTensorSteps') || changed.has('meta')) this.showFullTensorSteps(m);
    if (changed.has('step') || changed.has('curve') || changed.has('stepCount')) {
      if (this.slider.value !== String(m.step)) this.slider.value = String(m.step);
      const [, last] = this.store.stepRange();
      this.slider.setAttribute('aria-valuetext', `Step ${formatInt(m.step)} of ${formatInt(last)}`);
    }
    if (changed.has('step') || changed.has('stepCount') || changed.has('curve') || changed.has('meta') || changed.has('atPhase') || changed.has('runState')) {
      setText(this.position, this.positionText(m));
    }
    if (changed.has('phaseIndex') || changed.has('meta')) {
      const names = m.meta?.model.layers.map((l) => l.name) ?? [];
      const stops = this.store.stops();
      setText(this.phaseText, `Phase ${m.phaseIndex + 1}/${stops.length}: ${describeStop(this.store.currentStop(), names)}`);
    }
    if (changed.has('record') || changed.has('loading') || changed.has('notice') || changed.has('step') || changed.has('stepCount')) {
      setText(this.lossText, m.notice || this.lossLine(m));
      this.el.classList.toggle('loading', m.loading);
    }
    if (changed.has('playing')) {
      this.playButton.setAttribute('icon', m.playing ? 'debug-pause' : 'play');
      const label = `${m.playing ? 'Pause' : 'Play'} (Space)`;
      this.playButton.setAttribute('label', label);
      this.playButton.setAttribute('title', label);
      this.playButton.setAttribute('aria-pressed', String(m.playing));
      // While playing, announce nothing: a screen reader cannot keep up with 60 updates a second.
      this.el.querySelector('#status')?.setAttribute('aria-live', m.playing ? 'off' : 'polite');
    }
    if (changed.has('speed')) this.speed.value = String(m.speed);
    if (changed.has('live') || changed.has('runState') || changed.has('atPhase') || changed.has('meta')) {
      setHidden(this.liveBox, !m.live);
      // A run that ended takes no more control.
      setHidden(this.liveControls, !controllable(m));
      const at = m.atPhase ? ` ${describeHold(m.atPhase, m.meta?.model.layers.map((l) => l.name) ?? [])}` : '';
      setText(this.liveState, `Runner: ${m.runState}${at}`);
      this.liveState.dataset.state = m.runState;
      const paused = m.runState === 'paused';
      this.livePause.setAttribute('icon', paused ? 'debug-continue' : 'debug-pause');
      this.livePause.setAttribute('label', paused ? 'Continue the runner (P)' : 'Pause the runner (P)');
    }
  }

  /** One tick per kept keyframe (a few hundred at most: the budget halves them as they fill it), and the list in the slider's tooltip. */
  private showFullTensorSteps(m: Readonly<PanelModel>): void {
    const steps = m.fullTensorSteps ?? [];
    this.ticks.replaceChildren(...steps.map((s) => h('option', { value: s })));
    const shown = steps.length <= 8 ? steps.map(formatInt).join(', ') : `${steps.slice(0, 4).map(formatInt).join(', ')} … ${formatInt(steps[steps.length - 1])}`;
    this.slider.title = m.fullTensorSteps ? (steps.length ? `Full tensors (weights, gradients, whole batches) at ${formatInt(steps.length)} steps: ${shown}` : 'No step has full tensors') : '';
  }

  /**
   * "Step 3 / 19": the step shown and the run's last step (the planned one while the run goes on,
   * the last recorded once it ended); the held step is marked as in progress.
   */
  private positionText(m: Readonly<PanelModel>): string {
    const held = this.store.heldStep();
    if (!this.store.hasStepToShow()) return controllable(m) ? 'Step 0 not started' : 'No steps recorded';
    const last = controllable(m) && m.meta ? m.meta.config.steps - 1 : Math.max(this.store.stepRange()[1], held ?? -1);
    return `Step ${formatInt(m.step)} / ${formatInt(last)}${m.step === held ? ' (in progress)' : ''}`;
  }

  /** The loss and accuracy of the step shown; a held step says when its loss will be known. */
  private lossLine(m: Readonly<PanelModel>): string {
    const r = m.record;
    if (!this.store.hasStepToShow()) return '';
    if (!r || r.step !== m.step) return 'loading…';
    if (m.step === this.store.heldStep() && !Number.isFinite(r.loss)) return 'loss: not computed yet (the loss phase)';
    const acc = r.accuracy !== undefined && r.accuracy !== null ? ` · accuracy ${formatPercent(r.accuracy)}` : '';
    return `loss ${formatNum(r.loss)}${acc}`;
  }
}

