// The step-through panel in real headless Chromium: the built bundle, the real panel HTML under
// its strict CSP, and a host replaying a trace recorded from a real run of the seed model.
import * as assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { describeStop, phaseStops } from '../../src/shared/phases';
import type { RunError } from '../../src/shared/traceTypes';
import { TraceReader } from '../../src/trace/traceReader';
import { panelHtml } from '../../src/extension/panelHtml';
import { seedRunDir } from './fixture';
import { startHarnessServer, type HarnessServer } from './harnessPage';
import { assertNoErrors, closeChecked, launchChromium, openPanel, painted, screenshot, text, waitForStep, type PanelPage } from './panelDriver';
import { TraceHost, longRun, partialRun } from './traceHost';

const fmt = (n: number) => n.toLocaleString('en-US');

interface PanelHandle {
  gradientLens: {
    store: { state: { step: number; phaseIndex: number; selectedLayer: number; playing: boolean; speed: number }; flush(): void };
    controller: { goTo(step: number, phase?: number): void; nextPhase(): void };
    paints: number[];
  };
  __harness: { posted: { id: number; body: { type: string } }[]; states: unknown[]; violations: string[]; deliver(e: unknown): void };
}

describe('step-through panel (Chromium)', function () {
  let browser: Browser;
  let server: HarnessServer;
  let reader: TraceReader;
  let panel: PanelPage | undefined;

  before(async function () {
    reader = TraceReader.open(seedRunDir());
    [browser, server] = await Promise.all([launchChromium(), startHarnessServer()]);
  });

  after(async function () {
    await browser?.close();
    await server?.close();
    reader?.close();
  });

  afterEach(async function () {
    if (panel) {
      await closeChecked(panel);
      panel = undefined;
    }
  });

  const layers = () => reader.meta.model.layers;

  it('builds a strict-CSP page: nonce on every script, nothing inline, nothing remote', function () {
    const fakeUri = (p: string): unknown => ({ path: p, with: (c: { path: string }) => fakeUri(c.path), toString: () => `vscode-resource://ext${p}` });
    const webview = { cspSource: 'vscode-resource:', asWebviewUri: (u: unknown) => u };
    const a = panelHtml(webview as never, fakeUri('/ext/') as never);
    const b = panelHtml(webview as never, fakeUri('/ext/') as never);
    const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(a)?.[1] ?? '';
    assert.match(csp, /^default-src 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:|\*/);
    const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
    assert.ok(nonce && nonce.length >= 16, 'a crypto nonce');
    assert.notEqual(nonce, /'nonce-([^']+)'/.exec(b)?.[1], 'a fresh nonce per page');
    const scripts = a.match(/<script[^>]*>/g) ?? [];
    assert.equal(scripts.length, 2);
    for (const s of scripts) assert.ok(s.includes(`nonce="${nonce}"`) && s.includes('type="module"') && s.includes('src="vscode-resource://ext/ext/'), s);
    assert.match(a, /<link rel="stylesheet" id="vscode-codicon-stylesheet" href="vscode-resource:\/\/ext\/ext\/dist\/media\/codicon.css">/);
    assert.match(a, /dist\/webview\.js/);
    assert.match(a, /dist\/media\/vscode-elements\.js/);
    assert.match(a, /media\/panel\.css/);
    assert.doesNotMatch(a, /style=|<style|onload=|onclick=/);
  });

  it('loads the recorded run: model size, backend, first step', async function () {
    panel = await openPanel(browser, server, new TraceHost(reader));
    const { page } = panel;
    assert.equal(reader.meta.model.totalParams, 235_146);
    assert.match(await text(page, '#total-params'), /235,146 parameters/);
    assert.match(await text(page, '#backend'), new RegExp(reader.meta.backend.name === 'tensorflow' ? 'native' : reader.meta.backend.name));
    assert.match(await text(page, '#position'), new RegExp(`^Step 0 / ${reader.stepCount - 1}`));
    const first = reader.readStep(0);
    assert.match(await text(page, '#loss'), /^loss \d/);
    assert.ok(first.loss > 0);
    assert.equal(panel.host.received[0].body.type, 'ready', 'the panel says ready first');
    // The vscode-elements components rendered (their shadow roots exist) under the CSP.
    assert.ok(await page.locator('#next-phase').evaluate((el) => !!el.shadowRoot?.querySelector('button')));
  });

  it('walks the phases in order with the buttons: forward 0..n-1, loss, backward n-1..0, update', async function () {
    panel = await openPanel(browser, server, new TraceHost(reader));
    const { page } = panel;
    const names = layers().map((l) => l.name);
    const stops = phaseStops(names.length);
    assert.deepEqual(
      stops.map((s) => `${s.phase}${s.layer >= 0 ? s.layer : ''}`),
      [...names.map((_, i) => `forward${i}`), 'loss', ...names.map((_, i) => `backward${names.length - 1 - i}`), 'update'],
    );
    const seen: string[] = [await text(page, '#phase')];
    const told: string[] = [(await text(page, '#narration')).split(':')[0]];
    for (let i = 1; i < stops.length; i++) {
      await page.locator('#next-phase').click();
      await page.waitForFunction((i) => (window as unknown as PanelHandle).gradientLens.store.state.phaseIndex === i, i);
      await waitForStep(page, 0, i);
      seen.push(await text(page, '#phase'));
      told.push((await text(page, '#narration')).split(':')[0]);
    }
    assert.deepEqual(seen, stops.map((s, i) => `Phase ${i + 1}/${stops.length}: ${describeStop(s, names)}`));
    // Each phase is also told in words.
    assert.deepEqual(told, stops.map((s) => s.phase[0].toUpperCase() + s.phase.slice(1)));
    // Past the update comes the next step's first phase; and back again.
    await page.locator('#next-phase').click();
    await waitForStep(page, 1, 0);
    await page.locator('#prev-phase').click();
    await waitForStep(page, 0, stops.length - 1);
    await page.locator('#next-step').click();
    await waitForStep(page, 1, stops.length - 1);
    await page.locator('#last').click();
    await waitForStep(page, reader.stepCount - 1, stops.length - 1);
    await page.locator('#first').click();
    await waitForStep(page, 0, 0);
    await screenshot(page, 'panel-walk-light');
  });

  it('marks the steps with full tensors on the slider, and shows the weights of the last one kept', async function () {
    const kept = reader.fullTensorSteps;
    assert.ok(kept.length >= 2 && kept[0] === 0, `kept ${kept.join(',')}`);
    panel = await openPanel(browser, server, new TraceHost(reader));
    const ticks = await panel.page.$$eval('#full-tensor-steps option', (os) => os.map((o) => Number((o as HTMLOptionElement).value)));
    assert.deepEqual(ticks, kept);
    assert.equal(await panel.page.locator('#step-slider').getAttribute('list'), 'full-tensor-steps');
    assert.match((await panel.page.locator('#step-slider').getAttribute('title')) ?? '', new RegExp(`^Full tensors .* at ${kept.length} steps: 0, `));
    await panel.close();

    // A trace whose budget thinned its keyframes to step 0 only: a later step shows step 0's weights,
    // not those of a keyframe the policy once made and the trace no longer has.
    panel = await openPanel(browser, server, new TraceHost(reader, { fullTensorSteps: [0] }));
    const { page, host } = panel;
    const step = kept[1] + 1;
    await page.evaluate((s) => (window as unknown as PanelHandle).gradientLens.controller.goTo(s), step);
    await waitForStep(page, step);
    await page.waitForFunction(() => (document.querySelector('.heatmap-caption')?.textContent ?? '').includes('keyframe step 0'));
    const asked = host.received.map((m) => m.body).filter((b): b is { type: 'requestStep'; step: number } => b.type === 'requestStep').map((b) => b.step);
    assert.ok(!asked.includes(kept[1]), `asked for ${asked.join(',')}`);
    assert.deepEqual(await page.$$eval('#full-tensor-steps option', (os) => os.length), 1);
  });

  it('jumps with the slider and requests the step', async function () {
    panel = await openPanel(browser, server, new TraceHost(reader));
    const { page, host } = panel;
    const target = Math.min(17, reader.stepCount - 1);
    const since = host.received.length;
    await page.locator('#step-slider').fill(String(target));
    const request = await host.waitFor((m) => m.body.type === 'requestStep' && m.body.step === target, since);
    assert.ok(request.id > 0);
    await waitForStep(page, target);
    assert.match(await text(page, '#position'), new RegExp(`^Step ${target} / `));
    const loss = reader.readStep(target).loss;
    const shown = Number((await text(page, '#loss')).replace(/^loss ([^ ]+).*$/, '$1').replace('−', '-'));
    assert.ok(Math.abs(shown - loss) <= Math.abs(loss) * 1e-3, `loss shown ${shown} vs recorded ${loss}`);
    // The loss chart jumps too: click its middle.
    const box = (await page.locator('.loss-canvas').boundingBox())!;
    await page.mouse.click(box.x + 44 + (box.width - 84) / 2, box.y + box.height / 2);
    const middle = Math.round((reader.stepCount - 1) / 2);
    await waitForStep(page, middle);
    // Moving in the panel tells the host where it is (the editor's inline values follow)...
    await host.waitFor((m) => m.body.type === 'position' && m.body.step === middle, since);
    // ...and a position the host sends (Step Back in the editor) moves the panel, without an echo.
    const beforeGoTo = host.received.length;
    await page.evaluate((env) => (window as unknown as PanelHandle).__harness.deliver(env), host.envelope({ type: 'goTo', step: 2, phaseIndex: 1 }) as object);
    await waitForStep(page, 2, 1);
    assert.equal(host.received.slice(beforeGoTo).filter((m) => m.body.type === 'position').length, 0);
  });

  it('hovering each layer shows type, shape, parameter count and formula; the parts add up to 235,146', async function () {
    panel = await openPanel(browser, server, new TraceHost(reader));
    const { page } = panel;
    const counts: string[] = [];
    for (const layer of layers()) {
      await page.locator(`.layer-hit[data-layer="${layer.index}"]`).hover();
      const tooltip = page.locator('#tooltip');
      await tooltip.waitFor({ state: 'visible' });
      await page.waitForFunction((name) => document.getElementById('tooltip')?.textContent?.includes(name), layer.name);
      const t = (await tooltip.textContent()) ?? '';
      assert.ok(t.includes(layer.type), t);
      assert.ok(t.includes(fmt(layer.paramCount)), t);
      assert.ok(t.includes(layer.paramFormula), `${t} lacks ${layer.paramFormula}`);
      assert.ok(t.includes('235,146'), 'the model total');
      assert.match(t, /mean/, 'this step’s statistics');
      if (layer.paramCount > 0) counts.push(fmt(layer.paramCount));
    }
    assert.deepEqual(counts, ['200,960', '32,896', '1,290']);
    // Keyboard focus shows the same tooltip.
    await page.locator('.layer-hit[data-layer="1"]').focus();
    await page.waitForFunction(() => document.getElementById('tooltip')?.textContent?.includes('32,896'));
    // Click selects the layer and tells the host.
    const since = panel.host.received.length;
    await page.locator('.layer-hit[data-layer="2"]').click();
    const sel = await panel.host.waitFor((m) => m.body.type === 'layerSelected', since);
    assert.deepEqual(sel.body, { type: 'layerSelected', layer: 2 });
    await page.waitForFunction((name) => document.getElementById('layer-title')?.textContent?.startsWith(name), layers()[2].name);
    assert.match(await text(page, '#layer-subtitle'), /1,290/);
  });

  it('shows a failed run’s error with its message and location', async function () {
    const error: RunError = {
      kind: 'user-exception',
      message: 'Error when checking input: expected dense_Dense1_input to have shape [null,784]',
      location: { file: '/work/samples/01-what-is-a-neural-network/model.ts', line: 23, column: 7 },
      step: 3,
    };
    panel = await openPanel(browser, server, new TraceHost(reader, { error }));
    const { page } = panel;
    const banner = page.locator('#error-banner');
    await banner.waitFor({ state: 'visible' });
    assert.equal(await banner.getAttribute('role'), 'alert');
    assert.equal(await text(page, '#error-message'), error.message);
    assert.match(await text(page, '#error-location'), /model\.ts:23:7 · step 3/);
    assert.match(await text(page, '#run-state'), /failed/);
    await screenshot(page, 'panel-failed-light');

    // A live run that fails later: the progress message carries the error.
    const live = new TraceHost(reader, { live: true });
    panel.setHost(live);
    await page.reload();
    await waitForStep(page, undefined);
    assert.equal(await banner.isVisible(), false);
    await page.evaluate((env) => (window as unknown as PanelHandle).__harness.deliver(env), live.envelope({
      type: 'progress', entries: [], stepCount: reader.stepCount, state: 'failed',
      error: { kind: 'non-finite', message: 'NaN in ∂L/∂W of dense_Dense2', location: { file: '/m/model.ts', line: 9, column: 3 }, layer: 1, layerName: 'dense_Dense2' },
    }) as object);
    await banner.waitFor({ state: 'visible' });
    assert.match(await text(page, '#error-message'), /NaN/);
    assert.match(await text(page, '#error-location'), /model\.ts:9:3 · layer dense_Dense2/);
    assert.match(await text(page, '#live-state'), /failed/);
    assert.equal(await page.locator('#live-pause').isVisible(), false, 'an ended run takes no control');
    // The layer where the values went non-finite is flagged in the diagram, in words too.
    await page.waitForFunction(() => document.querySelector('.layer-hit[data-layer="1"]')?.getAttribute('aria-label')?.includes('warning: NaN/Inf'));
    assert.doesNotMatch((await page.locator('.layer-hit[data-layer="0"]').getAttribute('aria-label')) ?? '', /warning/);
    await screenshot(page, 'panel-nonfinite-light');
  });

  it('shows a run that failed before its first step (no steps, the error only)', async function () {
    const error: RunError = { kind: 'syntax', message: "';' expected.", location: { file: '/w/model.ts', line: 4, column: 18 } };
    panel = await openPanel(browser, server, new TraceHost(partialRun(reader, 0), { error }), 'dark', false);
    const { page, host } = panel;
    await page.locator('#error-banner').waitFor({ state: 'visible' });
    assert.equal(await text(page, '#error-message'), "';' expected.");
    assert.match(await text(page, '#error-location'), /model\.ts:4:18/);
    assert.equal(await text(page, '#position'), 'No steps recorded');
    assert.equal(await page.locator('#step-slider').isDisabled(), true);
    assert.equal(await text(page, '#empty-run'), 'The run recorded no step before it failed.');
    assert.equal(await page.locator('.layer-panel').isVisible(), false);
    // Nothing to ask for: the buttons and keys do nothing, and nothing breaks.
    await page.locator('#next-step').click();
    await page.keyboard.press('End');
    assert.equal(host.received.filter((m) => m.body.type === 'requestStep' || m.body.type === 'requestHistory').length, 0);
    await screenshot(page, 'panel-failed-early-dark');
  });

  it('saves its state with setState and restores it after a reload', async function () {
    panel = await openPanel(browser, server, new TraceHost(reader));
    const { page, host } = panel;
    const step = Math.min(5, reader.stepCount - 1);
    await page.evaluate((s) => (window as unknown as PanelHandle).gradientLens.controller.goTo(s, 3), step);
    await page.locator('.layer-hit[data-layer="1"]').click();
    await waitForStep(page, step, 3);
    await page.waitForFunction(
      ([s]) => {
        const states = (window as unknown as PanelHandle).__harness.states as { step: number; phaseIndex: number; selectedLayer: number }[];
        const last = states[states.length - 1];
        return last && last.step === s && last.phaseIndex === 3 && last.selectedLayer === 1;
      },
      [step] as const,
    );
    const saved = await page.evaluate(() => {
      const s = (window as unknown as PanelHandle).__harness.states;
      return s[s.length - 1];
    });
    assert.deepEqual(saved, { runDir: reader.dir, step, phaseIndex: 3, selectedLayer: 1 });

    const since = host.received.length;
    await page.reload();
    await host.waitFor((m) => m.body.type === 'ready', since);
    await host.waitFor((m) => m.body.type === 'requestStep' && m.body.step === step, since);
    await waitForStep(page, step, 3);
    assert.match(await text(page, '#phase'), /^Phase 4\//);
    assert.ok((await text(page, '#layer-title')).startsWith(layers()[1].name));
  });

  it('has keyboard shortcuts for every control', async function () {
    panel = await openPanel(browser, server, new TraceHost(reader));
    const { page } = panel;
    const state = () => page.evaluate(() => ({ ...(window as unknown as PanelHandle).gradientLens.store.state, record: undefined, meta: undefined, curve: undefined, histories: undefined }));
    const last = reader.stepCount - 1;
    const stopCount = phaseStops(layers().length).length;
    await page.locator('body').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('ArrowRight');
    await waitForStep(page, 0, 1);
    await page.keyboard.press('ArrowLeft');
    await waitForStep(page, 0, 0);
    await page.keyboard.press('Shift+ArrowRight');
    await waitForStep(page, 1, 0);
    await page.keyboard.press('Shift+ArrowLeft');
    await waitForStep(page, 0, 0);
    await page.keyboard.press('End');
    await waitForStep(page, last, stopCount - 1);
    await page.keyboard.press('Home');
    await waitForStep(page, 0, 0);
    await page.keyboard.press(']');
    await page.waitForFunction(() => (window as unknown as PanelHandle).gradientLens.store.state.selectedLayer === 1);
    await page.keyboard.press('[');
    await page.waitForFunction(() => (window as unknown as PanelHandle).gradientLens.store.state.selectedLayer === 0);
    const speed = (await state()).speed;
    await page.keyboard.press('+');
    assert.equal((await state()).speed, speed + 1);
    await page.keyboard.press('-');
    assert.equal((await state()).speed, speed);
    // Space plays (the status stops announcing), Space again pauses.
    await page.keyboard.press('Space');
    assert.equal((await state()).playing, true);
    await page.waitForFunction(() => document.getElementById('play')?.getAttribute('aria-pressed') === 'true');
    await page.waitForFunction(() => (window as unknown as PanelHandle).gradientLens.store.state.phaseIndex > 0 || (window as unknown as PanelHandle).gradientLens.store.state.step > 0);
    await page.keyboard.press('Space');
    assert.equal((await state()).playing, false);
    // G focuses the slider; there the arrows move the slider by one step.
    await page.keyboard.press('g');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'step-slider');
    const before = (await state()).step;
    await page.keyboard.press('ArrowRight');
    await waitForStep(page, Math.min(last, before + 1));
    // Every control has a name for assistive technology.
    const unnamed = await page.evaluate(() =>
      [...document.querySelectorAll('vscode-toolbar-button, button, input, select')]
        .filter((el) => !(el.getAttribute('label') || el.getAttribute('aria-label') || (el as HTMLElement).innerText?.trim()))
        .map((el) => el.outerHTML.slice(0, 80)),
    );
    assert.deepEqual(unnamed, []);
  });

  it('follows a live run: runner state, new steps, live controls, layer selection from the editor', async function () {
    const first = Math.min(10, reader.stepCount - 2);
    const host = new TraceHost(partialRun(reader, first), { live: true });
    panel = await openPanel(browser, server, host);
    const { page } = panel;
    // A live run opens at its newest step, and shows the runner's state and controls.
    await waitForStep(page, first - 1);
    assert.match(await text(page, '#live-state'), /Runner: running/);
    assert.ok(await page.locator('#live-pause').isVisible());
    // The run progresses: the curve grows and the panel, sitting at the newest step, follows.
    const grown = partialRun(reader, first + 2);
    host.reader = grown;
    await page.evaluate((env) => (window as unknown as PanelHandle).__harness.deliver(env), host.envelope({
      type: 'progress', entries: reader.index.slice(first, first + 2), stepCount: first + 2, state: 'paused',
      atPhase: { type: 'atPhase', step: first + 2, phase: 'backward', layer: 1 },
    }) as object);
    // It follows to the newest step, and the diagram shows the phase the runner holds at.
    const held = phaseStops(layers().length).findIndex((st) => st.phase === 'backward' && st.layer === 1);
    await waitForStep(page, first + 1, held);
    // The position counts to the run's planned last step while it goes on.
    assert.match(await text(page, '#position'), new RegExp(`^Step ${first + 1} / ${reader.meta.config.steps - 1}$`));
    assert.match(await text(page, '#phase'), new RegExp(`backward · ${layers()[1].name}$`));
    assert.match(await text(page, '#live-state'), new RegExp(`Runner: paused at step ${first + 2}, backward · ${layers()[1].name}`));
    // At the newest step of a held run, "next phase" / "next step" ask the runner to go on.
    const edge = host.received.length;
    await page.locator('body').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Shift+ArrowRight');
    await host.waitFor((m) => m.body.type === 'control' && m.body.action === 'stepBatch', edge);
    assert.deepEqual(host.received.slice(edge).filter((m) => m.body.type === 'control').map((m) => (m.body as { action: string }).action), ['stepPhase', 'stepBatch']);
    // The live controls post control messages: paused → continue, step a phase, step a batch, stop.
    const since = host.received.length;
    await page.locator('#live-pause').click();
    await page.locator('#live-step-phase').click();
    await page.keyboard.press('o');
    await page.locator('#live-stop').click();
    await host.waitFor((m) => m.body.type === 'control' && m.body.action === 'stop', since);
    const actions = host.received.slice(since).filter((m) => m.body.type === 'control').map((m) => (m.body as { action: string }).action);
    assert.deepEqual(actions, ['continue', 'stepPhase', 'stepBatch', 'stop']);
    // The editor's cursor on a layer line selects that layer (without echoing layerSelected).
    const before = host.received.length;
    await page.evaluate((env) => (window as unknown as PanelHandle).__harness.deliver(env), host.envelope({ type: 'selectLayer', layer: 2 }) as object);
    await page.waitForFunction((name) => document.getElementById('layer-title')?.textContent?.startsWith(name), layers()[2].name);
    assert.equal(host.received.slice(before).filter((m) => m.body.type === 'layerSelected').length, 0);
    // Held inside a step the trace does not hold yet: the panel shows what that step has computed
    // so far (the runner sends it with atPhase), not the previous step's numbers.
    const partial = reader.readStep(first + 2);
    partial.summaries = partial.summaries.filter((t) => t.layer <= 1 && ['input', 'preactivation', 'activation'].includes(t.role));
    await page.evaluate((env) => (window as unknown as PanelHandle).__harness.deliver(env), host.envelope({
      type: 'progress', entries: [], stepCount: first + 2, state: 'paused',
      atPhase: { type: 'atPhase', step: first + 2, phase: 'forward', layer: 1, record: partial },
    }) as object);
    const heldForward = phaseStops(layers().length).findIndex((st) => st.phase === 'forward' && st.layer === 1);
    await waitForStep(page, first + 2, heldForward);
    assert.match(await text(page, '#phase'), new RegExp(`forward · ${layers()[1].name}$`));
  });

  it('steps through step 0 phase by phase before the trace holds any step, with its numbers', async function () {
    const host = new TraceHost(partialRun(reader, 0), { live: true });
    panel = await openPanel(browser, server, host, 'light', false);
    const { page } = panel;
    const deliver = (body: object) => page.evaluate((env) => (window as unknown as PanelHandle).__harness.deliver(env), host.envelope(body as never) as object);
    // Held at entry: nothing computed yet, and the panel says what to do.
    await deliver({ type: 'progress', entries: [], stepCount: 0, state: 'paused', atPhase: { type: 'atPhase', step: 0, phase: 'forward', layer: -1 } });
    await page.waitForFunction(() => document.getElementById('live-state')?.textContent?.includes('before step 0'));
    assert.match(await text(page, '#empty-run'), /Held before step 0\. Step Phase/);
    // Nothing has run: the position is the step's first phase, not its last.
    assert.match(await text(page, '#phase'), /^Phase 1\//);
    // What the runner computes up to each stop, as it sends it with atPhase.
    const full = reader.readStep(0);
    const stops = phaseStops(layers().length);
    const upTo = (k: number) => {
      const done = stops.slice(0, k + 1);
      const keep = (t: { layer: number; role: string }) =>
        done.some((st) =>
          (st.phase === 'forward' && t.layer === st.layer && ['input', 'preactivation', 'activation'].includes(t.role)) ||
          (st.phase === 'backward' && t.layer === st.layer && ['gradActivation', 'gradPreactivation', 'gradParam'].includes(t.role)) ||
          (st.phase === 'update' && t.role === 'delta'));
      const lossKnown = done.some((st) => st.phase === 'loss');
      // As the runner sends it: the examples' targets from the start, their predictions from the loss phase.
      const samples = full.samples?.map((x) => (lossKnown ? x : { ...x, prediction: [] }));
      return { ...full, loss: lossKnown ? full.loss : NaN, summaries: full.summaries.filter(keep), tensors: full.tensors.filter(keep), samples };
    };
    const rowsOf = () => page.evaluate(() => [...document.querySelectorAll('.layer-panel tbody tr')].map((tr) => [...tr.children].map((c) => c.textContent ?? '')));
    const number = /^[-−]?\d[\d.,]*(e[-+−]?\d+)?$/;
    for (let k = 0; k < stops.length; k++) {
      const stop = stops[k];
      await deliver({ type: 'progress', entries: [], stepCount: 0, state: 'paused', atPhase: { type: 'atPhase', step: 0, phase: stop.phase, layer: stop.layer, record: upTo(k) } });
      await waitForStep(page, 0, k);
      assert.equal(await page.locator('#empty-run').isVisible(), false, `stop ${k}: the panel is still empty`);
      assert.match(await text(page, '#position'), new RegExp(`^Step 0 / ${reader.meta.config.steps - 1} \\(in progress\\)$`));
      assert.match(await text(page, '#phase'), new RegExp(`${describeStop(stop, layers().map((l) => l.name))}$`));
      const loss = await text(page, '#loss');
      if (stop.phase === 'forward') assert.match(loss, /not computed yet/, `stop ${k}`);
      else assert.match(loss, /^loss \d\.\d+/, `stop ${k}: ${loss}`);
      // The selected example: its target all along, its predicted classes once the loss is computed.
      const sample = await text(page, '#sample-target');
      const bars = await page.locator('ol.bars .bar').count();
      if (stop.phase === 'forward') {
        assert.match(sample, /^Sample #0 · target: \d+ \(.+\) · prediction: not computed yet \(the loss phase\)$/, `stop ${k}: ${sample}`);
        assert.equal(bars, 0, `stop ${k}: class bars before the prediction`);
      } else {
        assert.match(sample, /^Sample #0 · target: \d+ \(.+\) · (✓ predicted correctly|✗ predicted \d+ \(.+\))$/, `stop ${k}: ${sample}`);
        assert.equal(bars, 10, `stop ${k}: the predicted distribution`);
      }
      // The loss chart: empty (and saying so) until the loss phase, then the step's loss as a point.
      await painted(page);
      const chart = (await page.locator('.loss-canvas').getAttribute('aria-label')) ?? '';
      if (stop.phase === 'forward') assert.match(chart, /^Loss curve, empty\. Each step’s loss appears here/, `stop ${k}: ${chart}`);
      const shown = /^loss (\S+)/.exec(loss)?.[1];
      if (stop.phase !== 'forward') assert.ok(chart.includes(`Step 0 (in progress): loss ${shown}.`), `stop ${k}: the chart says "${chart}", the step bar "${loss}"`);
      if (stop.phase === 'loss') {
        // What a learner hovering the point reads.
        await page.locator('.loss-canvas').hover();
        await page.waitForFunction(() => document.querySelector('.loss-chart .readout')?.textContent !== '');
        assert.equal(await text(page, '.loss-chart .readout'), `step 0 (in progress) · loss ${shown}`);
        await screenshot(page, 'panel-step0-loss-chart');
        await page.mouse.move(0, 0);
      }
      if (stop.layer >= 0) {
        // The layer card follows the phase's layer and shows the statistics computed so far.
        await page.waitForFunction((name) => document.getElementById('layer-title')?.textContent?.startsWith(name), layers()[stop.layer].name);
        const rows = await rowsOf();
        const want = stop.phase === 'forward' ? 'a' : '∂L/∂a';
        const row = rows.find((r) => r[0] === want);
        assert.ok(row, `stop ${k}: no ${want} row in ${JSON.stringify(rows)}`);
        assert.match(row[1].trim(), number, `stop ${k}: mean of ${want} is ${row[1]}`);
      }
      if (k === 0 || stop.phase === 'backward' && stop.layer === 0 || stop.phase === 'update') await screenshot(page, `panel-step0-${k}-${stop.phase}`);
    }
    // Behind the runner, inside the held step, the previous phase shows what it showed before.
    await page.locator('#prev-phase').click();
    await waitForStep(page, 0, stops.length - 2);
    assert.match(await text(page, '#position'), /\(in progress\)$/);
  });

  it('writes hostile text from a trace as text: no markup runs, no CSP violation', async function () {
    // A meta.json from elsewhere: its names and formulas go on screen, never into the DOM as HTML.
    const hostile = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>';
    const source = partialRun(reader, reader.stepCount);
    const meta = {
      ...reader.meta,
      model: { ...reader.meta.model, name: hostile, layers: reader.meta.model.layers.map((l, i) => (i === 0 ? { ...l, name: hostile, paramFormula: hostile } : l)) },
    };
    panel = await openPanel(browser, server, new TraceHost({ ...source, meta }));
    const { page } = panel;
    assert.equal(await text(page, '#model-name'), hostile);
    await page.locator('.layer-hit[data-layer="0"]').click();
    await page.waitForFunction((name) => document.getElementById('layer-title')?.textContent?.startsWith(name), hostile);
    assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined, 'markup from the trace ran');
    assert.equal(await page.locator('#app img, #app script').count(), 0, 'markup from the trace became elements');
  });

  it('redraws a phase or step change within one frame', async function () {
    panel = await openPanel(browser, server, new TraceHost(reader));
    const { page } = panel;
    // Warm the cache with a few steps, then time: the views' redraw (flush), and the whole change
    // from the call to the end of the next animation frame.
    const result = await page.evaluate(async () => {
      const gl = (window as unknown as PanelHandle).gradientLens;
      const frame = () => new Promise<number>((r) => requestAnimationFrame(() => r(performance.now())));
      const waitRecord = async (s: number) => {
        while ((gl.store.state as unknown as { record?: { step: number } }).record?.step !== s) await frame();
      };
      for (const s of [0, 1, 2, 3]) {
        gl.controller.goTo(s, 0);
        await waitRecord(s);
      }
      const phase: number[] = [];
      const step: number[] = [];
      const views = ['controller', 'header', 'stepBar', 'narration', 'network', 'lossChart', 'sample', 'layerPanel', 'compare', 'main'];
      const perView = new Map<string, number[]>();
      const sample = () =>
        (gl.store as unknown as { listenerMs: number[] }).listenerMs.forEach((ms, i) => {
          const name = views[i] ?? String(i);
          perView.set(name, [...(perView.get(name) ?? []), ms]);
        });
      for (let k = 0; k < 24; k++) {
        const t0 = performance.now();
        gl.controller.nextPhase();
        phase.push((await frame()) - t0);
        sample();
        if (gl.store.state.phaseIndex === 0) gl.controller.goTo(0, 0);
      }
      for (let k = 0; k < 24; k++) {
        const s = k % 4;
        const t0 = performance.now();
        gl.controller.goTo(s === gl.store.state.step ? (s + 1) % 4 : s);
        step.push((await frame()) - t0);
        sample();
      }
      return { phase, step, paints: gl.paints.slice(-48), perView: [...perView].map(([k, v]) => `${k} ${[...v].sort((a, b) => a - b)[v.length >> 1].toFixed(1)}/${Math.max(...v).toFixed(1)}`).join(', ') };
    });
    const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
    const max = (a: number[]) => Math.max(...a);
    const report = `phase change: median ${median(result.phase).toFixed(2)} ms, max ${max(result.phase).toFixed(2)} ms; step change: median ${median(result.step).toFixed(2)} ms, max ${max(result.step).toFixed(2)} ms; redraw work per frame: median ${median(result.paints).toFixed(2)} ms, max ${max(result.paints).toFixed(2)} ms`;
    console.log(`      ${report}\n      redraw per view, median/max (ms): ${result.perView}`);
    // The frame times include waiting for the next vsync and whatever else the machine runs (the
    // CI box is shared); the redraw work itself is what must fit in a frame.
    assert.ok(median(result.paints) < 16, report);
  });
});

describe('step-through panel: themes and long runs (Chromium)', function () {
  let browser: Browser;
  let server: HarnessServer;
  let reader: TraceReader;

  before(async function () {
    reader = TraceReader.open(seedRunDir());
    [browser, server] = await Promise.all([launchChromium(), startHarnessServer()]);
  });

  after(async function () {
    await browser?.close();
    await server?.close();
    reader?.close();
  });

  for (const theme of ['light', 'dark', 'high-contrast'] as const) {
    it(`renders in the ${theme} theme (screenshot test/artifacts/panel-${theme}.png)`, async function () {
      const panel = await openPanel(browser, server, new TraceHost(reader), theme);
      const { page } = panel;
      const n = reader.meta.model.layers.length;
      // Step 12, "backward · layer 1": gradients flowing back, the middle layer selected.
      const step = Math.min(12, reader.stepCount - 1);
      await page.evaluate(([s, p]) => (window as unknown as PanelHandle).gradientLens.controller.goTo(s, p), [step, n + 2] as const);
      await page.locator('.layer-hit[data-layer="1"]').click();
      await waitForStep(page, step, n + 2);
      await page.waitForFunction(() => [...document.querySelectorAll('.strip-caption')].every((c) => c.textContent?.startsWith('values')));
      await page.waitForFunction(() => (document.querySelector('.heatmap-caption')?.textContent ?? '').includes('×'));
      await page.locator('.layer-hit[data-layer="1"]').hover();
      await page.locator('#tooltip').waitFor({ state: 'visible' });
      const file = await screenshot(page, `panel-${theme}`);
      assert.ok(file.endsWith('.png'));
      const violations = await page.evaluate(() => (window as unknown as PanelHandle).__harness.violations);
      assert.deepEqual(violations, []);
      assertNoErrors(panel);
      await panel.close();
    });
  }

  it('follows a theme switch at run time (screenshot test/artifacts/panel-update-dark.png)', async function () {
    const panel = await openPanel(browser, server, new TraceHost(reader), 'light');
    const { page } = panel;
    // The update phase of the last step (a keyframe: per-unit bias updates are kept).
    await page.keyboard.press('End');
    await waitForStep(page, reader.stepCount - 1, phaseStops(reader.meta.model.layers.length).length - 1);
    // The input image's darkest value is drawn in the editor background: white, then dark.
    const corner = () => page.evaluate(() => Array.from((document.querySelector('.sample-image') as HTMLCanvasElement).getContext('2d')!.getImageData(0, 0, 1, 1).data.slice(0, 3)));
    assert.deepEqual(await corner(), [255, 255, 255]);
    await page.evaluate(() => {
      document.body.className = 'vscode-dark';
    });
    await page.waitForFunction(() => (document.querySelector('.sample-image') as HTMLCanvasElement).getContext('2d')!.getImageData(0, 0, 1, 1).data[0] < 64);
    assert.deepEqual(await corner(), [31, 31, 31]);
    await screenshot(page, 'panel-update-dark');
    assertNoErrors(panel);
    await panel.close();
  });

  it('scrubs a 100,000-step run without growing in memory or DOM', async function () {
    const host = new TraceHost(longRun(reader, 100_000));
    const panel = await openPanel(browser, server, host);
    const { page } = panel;
    assert.match(await text(page, '#position'), /\/ 99,999/);
    const cdp = await page.context().newCDPSession(page);
    const scrub = (count: number, seed: number) =>
      page.evaluate(
        async ([count, seed]) => {
          const gl = (window as unknown as PanelHandle).gradientLens;
          let x = seed;
          const frame = () => new Promise((r) => requestAnimationFrame(r));
          for (let i = 0; i < count; i++) {
            x = (x * 1103515245 + 12345) % 2147483648;
            const s = x % 100_000;
            gl.controller.goTo(s);
            // Like a dragged slider: several positions per frame, then wait for the last to show.
            if (i % 4 === 3) {
              while ((gl.store.state as unknown as { record?: { step: number } }).record?.step !== s) await frame();
            }
          }
        },
        [count, seed] as const,
      );
    const measure = async () => {
      await cdp.send('HeapProfiler.collectGarbage');
      const heap = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number };
      const nodes = await page.evaluate(() => document.getElementsByTagName('*').length);
      return { heap: heap.usedSize, nodes };
    };
    await scrub(40, 7);
    await page.locator('#step-slider').fill('54321');
    await waitForStep(page, 54321);
    const before = await measure();
    await scrub(120, 99);
    await page.locator('#step-slider').fill('99999');
    await waitForStep(page, 99_999);
    const after = await measure();
    const grew = (after.heap - before.heap) / 1e6;
    console.log(`      heap ${(before.heap / 1e6).toFixed(1)} MB → ${(after.heap / 1e6).toFixed(1)} MB after 120 more scrubs; DOM ${before.nodes} → ${after.nodes} elements`);
    assert.ok(grew < 3, `heap grew ${grew.toFixed(1)} MB`);
    assert.ok(after.nodes <= before.nodes + 5, `DOM grew from ${before.nodes} to ${after.nodes}`);
    assertNoErrors(panel);
    await panel.close();
  });
});
