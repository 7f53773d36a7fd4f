// The panel's entry point: builds the views, connects them to the store and the host, and says
// `ready`. The host answers with `init` (again after a reload, when the panel restores its
// saved step, phase and layer).
import { CompareView } from './compareView';
import { PanelController } from './controller';
import { h } from './dom';
import { Header } from './header';
import { HostChannel, vscodeApi } from './hostChannel';
import { installShortcuts, shortcutHelp } from './keyboard';
import { LayerPanel } from './layerPanel';
import { LossChart } from './lossChart';
import { Narration } from './narration';
import { NetworkView } from './networkView';
import { SampleView } from './sampleView';
import { Store, controllable, type PanelModel } from './state';
import { StepBar } from './stepBar';
import { readTheme, watchTheme } from './theme';
import { Tooltip } from './tooltip';

function main(): void {
  const api = vscodeApi();
  const store = new Store();
  const channel = new HostChannel(api);
  const controller = new PanelController(store, channel, api);
  let theme = readTheme();

  const app = document.getElementById('app') ?? document.body.appendChild(h('main', { id: 'app' }));
  const tooltip = new Tooltip(document.body);
  const header = new Header(store);
  const stepBar = new StepBar(store, controller);
  const narration = new Narration(store);
  const network = new NetworkView(store, tooltip, theme, { select: (layer) => controller.selectLayer(layer) });
  const jump = (step: number) => controller.goTo(step);
  const loss = new LossChart(store, theme, jump);
  const sample = new SampleView(store, theme);
  const layerPanel = new LayerPanel(store, theme, jump, (step) => controller.keyframeFor(step));

  const compare = new CompareView(store, {
    jump: () => controller.jumpToDivergence(),
    setTolerance: (t) => controller.setTolerance(t),
    close: () => controller.compareAction('close'),
    report: () => controller.compareAction('report'),
  });

  const emptyRun = h('p', { class: 'empty-run muted', id: 'empty-run' });
  app.replaceChildren(
    header.el,
    stepBar.el,
    narration.el,
    compare.el,
    compare.noticeEl,
    network.el,
    emptyRun,
    h('div', { class: 'columns' }, h('div', { class: 'column' }, loss.el, sample.el), h('div', { class: 'column' }, layerPanel.el)),
    shortcutHelp(),
  );
  store.subscribe((m, changed) => {
    if (changed.has('meta')) app.setAttribute('aria-busy', 'false');
    if (changed.has('stepCount') || changed.has('meta') || changed.has('runState') || changed.has('atPhase')) {
      // Before the first phase has run there is nothing to show: say so, and what to do, instead
      // of empty boxes. From the first phase on, the held step's own numbers are shown.
      app.classList.toggle('no-steps', !store.hasStepToShow());
      emptyRun.textContent = emptyRunText(m);
    }
  });
  installShortcuts(store, controller, () => stepBar.focusSlider());
  watchTheme(() => {
    theme = readTheme();
    network.setTheme(theme);
    loss.setTheme(theme);
    sample.setTheme(theme);
    layerPanel.setTheme(theme);
  });

  // For the Chromium tests and for profiling: how long each redraw took.
  const paints: number[] = [];
  store.onFlushed = (ms) => {
    paints.push(ms);
    if (paints.length > 200) paints.shift();
  };
  (window as unknown as { gradientLens: unknown }).gradientLens = { store, controller, paints, flush: () => store.flush() };

  controller.start();
}

function emptyRunText(m: Readonly<PanelModel>): string {
  if (m.runState === 'failed') return 'The run recorded no step before it failed.';
  if (m.runState === 'paused' && m.atPhase) return 'Held before step 0. Step Phase (F10, or → here) runs its first phase: the first layer\'s forward pass.';
  if (controllable(m)) return 'Step 0 is on its way.';
  return 'The run recorded no steps.';
}

main();
