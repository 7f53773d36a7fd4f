// The panel's entry point: builds the views, connects them to the store and the host, and says
// `ready`. The host answers with `init` (again after a reload, when the panel restores its
// saved step, phase and layer).
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
import { Store } from './state';
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

  const emptyRun = h('p', { class: 'empty-run muted', id: 'empty-run' });
  app.replaceChildren(
    header.el,
    stepBar.el,
    narration.el,
    network.el,
    emptyRun,
    h('div', { class: 'columns' }, h('div', { class: 'column' }, loss.el, sample.el), h('div', { class: 'column' }, layerPanel.el)),
    shortcutHelp(),
  );
  store.subscribe((m, changed) => {
    if (changed.has('meta')) app.setAttribute('aria-busy', 'false');
    if (changed.has('stepCount') || changed.has('meta') || changed.has('runState')) {
      // Before the first step there is nothing to chart: say so instead of empty boxes.
      app.classList.toggle('no-steps', m.stepCount === 0);
      emptyRun.textContent = m.runState === 'failed' ? 'The run recorded no step before it failed.' : 'No step recorded yet.';
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

main();
