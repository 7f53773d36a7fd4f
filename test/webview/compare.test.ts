// The compare view in real headless Chromium: a model file is run, edited (one initialiser
// changed) and rerun; the rerun's panel, compared with the first run, names the first divergent
// layer at step 0 and jumps there in one click. Also: a tolerance the user types, the layers a
// changed layer list leaves unmatched, closing the view.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { checkSavedComparison, savedComparison } from '../../src/extension/savedComparison';
import { describeStop, phaseStops } from '../../src/shared/phases';
import { diffRuns } from '../../src/trace/runDiff';
import { TraceReader } from '../../src/trace/traceReader';
import { CompareHost } from './compareHost';
import { editedRuns, seedRunDir, type EditedRuns } from './fixture';
import { startHarnessServer, type HarnessServer } from './harnessPage';
import { closeChecked, launchChromium, openPanel, painted, screenshot, text, waitForStep, type PanelPage } from './panelDriver';

interface PanelHandle {
  gradientLens: {
    store: {
      state: { step: number; phaseIndex: number; selectedLayer: number; compare?: { tolerance: number }; baseline?: { step: number } };
      listenerMs: number[];
      onFlushed: ((ms: number, changed: ReadonlySet<string>) => void) | undefined;
    };
    controller: { goTo(step: number, phase?: number): void };
  };
  __harness: { violations: string[]; states: unknown[] };
}

describe('compare view (Chromium)', function () {
  let browser: Browser;
  let server: HarnessServer;
  let runs: EditedRuns;
  const readers: TraceReader[] = [];
  let panel: PanelPage | undefined;
  let host: CompareHost | undefined;

  const open = (dir: string) => {
    const r = TraceReader.open(dir);
    readers.push(r);
    return r;
  };

  before(async function () {
    runs = editedRuns();
    [browser, server] = await Promise.all([launchChromium(), startHarnessServer()]);
  });

  after(async function () {
    await browser?.close();
    await server?.close();
    for (const r of readers) r.close();
  });

  afterEach(async function () {
    if (panel) {
      await closeChecked(panel);
      panel = undefined;
    }
    host?.close();
    host = undefined;
  });

  async function openCompared(runDir: string, baselineDir: string): Promise<PanelPage> {
    host = new CompareHost(open(runDir), baselineDir);
    panel = await openPanel(browser, server, host, 'dark');
    await panel.page.locator('#compare-verdict-text').filter({ hasText: /\S/ }).waitFor();
    return panel;
  }

  it('an edited initialiser: the first divergence is named (step 0, forward, the edited layer) and one click away', async function () {
    const { page } = await openCompared(runs.edited, runs.before);
    const edited = open(runs.edited);
    const names = edited.meta.model.layers.map((l) => l.name);
    // What the host computed (the CLI's diff, not the page) says the edited layer, at step 0.
    const diff = diffRuns(open(runs.before), edited);
    assert.equal(diff.firstDivergence?.step, 0);
    assert.deepEqual(diff.firstDivergence?.stop, { phase: 'forward', layer: 1 });
    const where = `forward · ${names[1]}`;

    assert.equal(await text(page, '#compare-verdict-text'), `First divergence: step 0 · ${where}`);
    assert.match(await text(page, '#compare-differences'), /^z mean: −?[\d.e−]+ here, −?[\d.e−]+ in the baseline/);
    assert.equal((await text(page, '#compare-jump')).trim(), `Go to step 0 · ${where}`);
    assert.match(await text(page, '#compare-baseline'), /^Baseline: model\.ts · .* · cpu · seed 3 · 4 steps$/);
    assert.equal(await text(page, '#compare-matching'), `2 of 2 layers compared, matched by name and position.`);
    assert.match(await text(page, '#loss-title'), /this run and the baseline/);
    assert.ok(await page.locator('#baseline-legend').isVisible(), 'the baseline has its legend entry');

    // Step 0's side by side: the first layer's forward pass agrees (every Δ "="), the edited layer's
    // does not, and its group is marked as the first divergence.
    const stops = phaseStops(names.length);
    await page.locator('#compare-table tbody[data-stop="1"] .divergence-badge').waitFor();
    const deltas = (stop: number) => page.locator(`#compare-table tbody[data-stop="${stop}"] tr.delta td:not(.run)`).allTextContents();
    const first = await deltas(0);
    assert.ok(first.length >= 7 && first.every((t) => t === '='), `forward · ${names[0]} agrees at step 0: ${first.join(' ')}`);
    assert.ok((await deltas(1)).some((t) => t !== '=' && t !== '—'), 'the edited layer differs at step 0');
    assert.equal(await page.locator('#compare-table tbody[data-stop="0"] tr.mine th').first().textContent(), 'x');

    // Move away (the last step, the update phase), then jump: the panel is back at step 0, the
    // edited layer's forward phase, with that layer selected, and it told the host.
    await page.locator('#last').click();
    await waitForStep(page, edited.stepCount - 1, stops.length - 1);
    const since = host!.received.length;
    await page.locator('#compare-jump').click();
    await waitForStep(page, 0, 1);
    assert.equal(await text(page, '#phase'), `Phase 2/${stops.length}: ${describeStop(stops[1], names)}`);
    assert.match(await text(page, '#position'), /^Step 0 /);
    assert.match(await text(page, '#layer-title'), new RegExp(`^${names[1]} · Dense`));
    const told = await host!.waitFor((m) => m.body.type === 'position', since);
    assert.deepEqual(told.body, { type: 'position', step: 0, phaseIndex: 1 });
    await page.locator('#compare-table tbody.current[data-stop="1"]').waitFor();
    const file = await screenshot(page, 'webview-compare');
    assert.ok(file.endsWith('webview-compare.png'));
  });

  it('a tolerance the user types is compared with on the host; a bad one is refused where it was typed', async function () {
    const { page } = await openCompared(runs.edited, runs.before);
    const field = page.locator('#compare-tolerance input');
    await field.fill('lots');
    await field.press('Enter');
    assert.equal(await text(page, '#compare-tolerance-error'), '“lots” is not a number ≥ 0');
    assert.ok(!host!.received.some((m) => m.body.type === 'compareTolerance'), 'nothing sent');
    // A tolerance so wide that the first step's changes agree: whatever the diff says, the panel says.
    await field.fill('0.5');
    await field.press('Enter');
    await page.waitForFunction(() => (window as unknown as PanelHandle).gradientLens.store.state.compare?.tolerance === 0.5);
    await painted(page);
    const loose = diffRuns(open(runs.before), open(runs.edited), { tolerance: 0.5 });
    const verdict = await text(page, '#compare-verdict-text');
    if (loose.firstDivergence) {
      const d = host!.comparison.message().divergence!;
      assert.equal(verdict, `First divergence: step ${d.step} · ${d.where}`);
    } else {
      assert.match(verdict, loose.identical ? /^Identical: every captured value of 4 steps agrees within a tolerance of 0\.5$/ : /^No divergence/);
    }
    assert.equal(await text(page, '#compare-tolerance-error'), '');
  });

  it('a layer inserted: compared on the shared layers, and the panel says which did not match', async function () {
    const { page } = await openCompared(runs.inserted, runs.before);
    const names = open(runs.inserted).meta.model.layers.map((l) => l.name);
    assert.equal(names.length, 3);
    // Which layer is left over is the host's matching (by name, then position), not the page's.
    const { onlyB, onlyA } = diffRuns(open(runs.before), open(runs.inserted)).layers;
    assert.equal(onlyB.length, 1);
    assert.deepEqual(onlyA, []);
    const unmatched = onlyB[0];
    const matching = await text(page, '#compare-matching');
    assert.ok(matching.startsWith('2 of 3 layers compared'), matching);
    assert.ok(matching.includes(`Not matched, only in this run: #${unmatched.index} ${unmatched.name}.`), matching);
    // The unmatched layer's forward phase is not compared; the first layer's is, and agrees at step 0.
    assert.equal(await text(page, `#compare-table tbody[data-stop="${unmatched.index}"] td.muted`), `${unmatched.name} is only in this run: not compared.`);
    assert.ok((await page.locator('#compare-table tbody[data-stop="0"] tr.delta td:not(.run)').allTextContents()).every((t) => t === '='));
  });

  it('a replay (the seed run against itself) is identical; stepping redraws the side by side within a frame', async function () {
    const seed = seedRunDir();
    const { page } = await openCompared(seed, seed);
    const reader = open(seed);
    assert.equal(await text(page, '#compare-verdict-text'), `Identical: every captured value of ${reader.stepCount} steps agrees exactly`);
    assert.ok(!(await page.locator('#compare-jump').isVisible()), 'nothing to jump to');
    // Step changes with the baseline's records cached: what the compare view's own redraw costs
    // (4 layers: every phase's tensors, three rows each).
    const costs = await page.evaluate(async (steps) => {
      const gl = (window as unknown as PanelHandle).gradientLens;
      const frame = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      const until = async (ok: () => boolean) => {
        while (!ok()) await frame();
      };
      // The compare view subscribed after the layer panel: its slot in listenerMs, read after every
      // flush (a step change flushes more than once: the record, then the baseline's).
      let worst = 0;
      const previous = gl.store.onFlushed;
      gl.store.onFlushed = (ms, changed) => {
        previous?.(ms, changed);
        worst = Math.max(worst, gl.store.listenerMs[8]);
      };
      const out: number[] = [];
      for (let k = 0; k < 12; k++) {
        const s = k % steps;
        worst = 0;
        gl.controller.goTo(s === gl.store.state.step ? (s + 1) % steps : s, 0);
        const target = gl.store.state.step;
        await until(() => gl.store.state.baseline?.step === target && document.querySelector(`#compare-step-title`)?.textContent?.startsWith(`Step ${target}:`) === true);
        out.push(worst);
      }
      gl.store.onFlushed = previous;
      return out;
    }, Math.min(4, reader.stepCount));
    const median = [...costs].sort((x, y) => x - y)[costs.length >> 1];
    console.log(`      compare view redraw on a step change (seed MLP, every phase): median ${median.toFixed(1)} ms, max ${Math.max(...costs).toFixed(1)} ms`);
    assert.ok(median < 16, `median ${median} ms`);
    const rows = await page.locator('#compare-table tr.delta').count();
    assert.ok(rows > 20, `${rows} tensors side by side`);
    assert.deepEqual([...new Set(await page.locator('#compare-table tr.delta td:not(.run)').allTextContents())], ['='], 'every difference is none');
  });

  /** The panel's last setState, once it holds a comparison with `tolerance`. */
  async function savedState(page: PanelPage['page'], tolerance: number): Promise<unknown> {
    const handle = await page.waitForFunction((t) => {
      const states = (window as unknown as PanelHandle).__harness.states as { compare?: { tolerance: number } }[];
      const last = states[states.length - 1];
      return last?.compare?.tolerance === t ? last : undefined;
    }, tolerance);
    return handle.jsonValue();
  }

  it('survives a reload: the saved state names the baseline and tolerance, the host checks it and compares again', async function () {
    const { page } = await openCompared(runs.edited, runs.before);
    const field = page.locator('#compare-tolerance input');
    await field.fill('0.5');
    await field.press('Enter');
    const saved = await savedState(page, 0.5);
    assert.deepEqual((saved as { compare: unknown }).compare, { baselineDir: runs.before, tolerance: 0.5 });

    // What PanelSerializer does with the saved state: the comparison it names, checked.
    const check = checkSavedComparison(savedComparison(saved)!, { runsFolders: [path.dirname(runs.before)], chosen: [] });
    assert.deepEqual(check, { kind: 'restore', baselineDir: runs.before, tolerance: 0.5 });
    host!.close();
    host = new CompareHost(open(runs.edited), check);
    panel!.setHost(host);
    await page.reload();
    await page.waitForFunction(() => (window as unknown as PanelHandle).gradientLens.store.state.compare?.tolerance === 0.5);
    await painted(page);
    assert.ok(await page.locator('#compare').isVisible(), 'the compare view is back');
    assert.match(await text(page, '#compare-baseline'), /^Baseline: model\.ts · /);
    assert.equal(await page.locator('#compare-tolerance input').inputValue(), '0.5');
    assert.ok(!(await page.locator('#compare-notice').isVisible()));
  });

  it('after a reload, a baseline deleted since is one line ("no longer exists"), not an error, and is not saved again', async function () {
    const copy = path.join(path.dirname(runs.before), 'before-copy');
    fs.rmSync(copy, { recursive: true, force: true });
    fs.cpSync(runs.before, copy, { recursive: true });
    const { page } = await openCompared(runs.edited, copy);
    const saved = await savedState(page, 0);
    fs.rmSync(copy, { recursive: true });

    const check = checkSavedComparison(savedComparison(saved)!, { runsFolders: [path.dirname(runs.before)], chosen: [] });
    host!.close();
    host = new CompareHost(open(runs.edited), check);
    panel!.setHost(host);
    await page.reload();
    await page.locator('#compare-notice').waitFor();
    assert.equal(await text(page, '#compare-notice'), `The baseline run no longer exists: ${copy}`);
    assert.ok(!(await page.locator('#compare').isVisible()), 'no compare view');
    assert.equal(await text(page, '#loss-title'), 'Loss over steps');
    // The panel saves its state without the comparison now: the next reload does not ask again.
    await page.locator('#next-step').click();
    await page.waitForFunction(() => {
      const states = (window as unknown as PanelHandle).__harness.states as { compare?: unknown; step: number }[];
      const last = states[states.length - 1];
      return last && last.step > 0 && last.compare === undefined;
    });
  });

  it('Close ends the comparison; Full report asks the host for the document', async function () {
    const { page } = await openCompared(runs.edited, runs.before);
    await page.locator('#compare-report').click();
    await host!.waitFor((m) => m.body.type === 'compareAction');
    assert.equal(host!.reports, 1);
    await page.locator('#compare-close').click();
    await page.locator('#compare').waitFor({ state: 'hidden' });
    assert.equal(await text(page, '#loss-title'), 'Loss over steps');
  });
});
