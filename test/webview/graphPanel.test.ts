// The panel draws a functional model as its graph, in real headless Chromium: a run of a
// two-input model (two branches concatenated, recorded with the CLI) shows both inputs and
// every node, one SVG path per edge of the graph plus the output's edge to the loss, and the
// edges the traced phase crosses are the highlighted ones.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { phaseStops } from '../../src/shared/phases';
import { TraceReader } from '../../src/trace/traceReader';
import { ROOT, startHarnessServer, type HarnessServer } from './harnessPage';
import { assertNoErrors, launchChromium, openPanel, screenshot, text, waitForStep, type PanelPage } from './panelDriver';
import { TraceHost } from './traceHost';

const TWO_INPUT_MODEL = 'test/unit/fixtures/fit/twoInputFit.ts';
const RESIDUAL_MODEL = 'test/unit/fixtures/residualFit.ts';
const TWO_OUTPUT_MODEL = 'test/unit/fixtures/fit/twoOutputFit.ts';

/** A run of a model file, recorded by the engine built last. */
function graphRunDir(name: string, model: string): string {
  const dir = path.join(ROOT, 'out/test/webview', name);
  const cli = path.join(ROOT, 'dist/cli.js');
  const end = path.join(dir, 'end.json');
  if (fs.existsSync(end) && fs.statSync(end).mtimeMs >= fs.statSync(cli).mtimeMs) return dir;
  fs.rmSync(dir, { recursive: true, force: true });
  const r = spawnSync(process.execPath, [cli, 'trace', model, '--backend', 'cpu', '--out', dir], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`recording ${model} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return dir;
}

interface PanelHandle {
  gradientLens: { controller: { goTo(step: number, phase?: number): void } };
}

describe('the panel draws a functional model as a graph (Chromium)', function () {
  let browser: Browser;
  let server: HarnessServer;
  let reader: TraceReader;
  let panel: PanelPage | undefined;

  before(async function () {
    reader = TraceReader.open(graphRunDir('graph-run', TWO_INPUT_MODEL));
    [browser, server] = await Promise.all([launchChromium(), startHarnessServer()]);
  });

  after(async function () {
    await panel?.close();
    await browser?.close();
    await server?.close();
    reader?.close();
  });

  it('two inputs, two branches: a box per input and node, a path per edge, the phase’s edges highlighted', async function () {
    const graph = reader.meta.model.graph!;
    const nodes = reader.meta.model.layers;
    assert.deepEqual(graph.inputs.map((i) => i.name), ['left', 'right']);
    assert.equal(graph.edges.length, 5, 'left→dense, right→dense, both→concatenate, concatenate→dense');
    panel = await openPanel(browser, server, new TraceHost(reader));
    const { page } = panel;
    assert.equal(await page.locator('.network-edges path.graph-edge:not(.loss-edge)').count(), graph.edges.length, 'one path per edge');
    assert.equal(await page.locator('.network-edges path.loss-edge').count(), 1, 'the output’s edge to the loss');
    const labels = await page.locator('.layer-hit').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? ''));
    assert.equal(labels.length, 2 + nodes.length);
    assert.match(labels[0], /^Input left, shape \[?.*4/);
    assert.match(labels[1], /^Input right, shape \[?.*3/);
    nodes.forEach((n, i) => assert.ok(labels[2 + i].startsWith(`Layer ${n.name}, ${n.type}`), labels[2 + i]));
    // Two branches are drawn side by side: the inputs share a column, so do their dense layers.
    const centre = async (i: number) => {
      const b = (await page.locator('.layer-hit').nth(i).boundingBox())!;
      return { x: b.x + b.width / 2, y: b.y + b.height / 2 };
    };
    const [left, right, pa, pb, joined] = await Promise.all([0, 1, 2, 3, 4].map(centre));
    assert.ok(Math.abs(left.x - right.x) < 0.5 && left.y < right.y, 'the inputs share the first column');
    assert.ok(Math.abs(pa.x - pb.x) < 0.5 && pa.y < pb.y, 'the two branches share the second');
    assert.ok(pa.x > left.x && joined.x > pa.x, 'columns by rank, left to right');

    // Forward through the concatenate (node 2): the two edges into it are the hot ones.
    const stops = phaseStops(nodes.length);
    const concat = nodes.findIndex((n) => n.type === 'Concatenate');
    const at = stops.findIndex((s) => s.phase === 'forward' && s.layer === concat);
    await page.evaluate((i) => (window as unknown as PanelHandle).gradientLens.controller.goTo(0, i), at);
    await waitForStep(page, 0, at);
    const hot = () => page.locator('.network-edges path.hot').evaluateAll((els) => els.map((e) => `${(e as SVGElement).dataset.from}→${(e as SVGElement).dataset.to} ${(e as SVGElement).dataset.phase}`));
    assert.deepEqual((await hot()).sort(), [`0→${concat} forward`, `1→${concat} forward`]);
    // Backward at the same node: the same edges carry its gradient back to both branches.
    const back = stops.findIndex((s) => s.phase === 'backward' && s.layer === concat);
    await page.evaluate((i) => (window as unknown as PanelHandle).gradientLens.controller.goTo(0, i), back);
    await waitForStep(page, 0, back);
    assert.deepEqual((await hot()).sort(), [`0→${concat} backward`, `1→${concat} backward`]);
    await screenshot(page, 'webview-graph');
    assertNoErrors(panel);
    await panel.close();
    panel = undefined;
  });

  it('a node two branches read: its layer card lists the part of its gradient each one sent back', async function () {
    const residual = TraceReader.open(graphRunDir('residual-run', RESIDUAL_MODEL));
    try {
      const nodes = residual.meta.model.layers;
      // stem → block → add(stem, block): the stem hears from the block and from the add.
      assert.deepEqual(residual.meta.model.graph!.edges.filter((e) => !e.fromInput && e.from === 0).map((e) => e.to), [1, 2]);
      panel = await openPanel(browser, server, new TraceHost(residual));
      const { page } = panel;
      await page.locator('.layer-hit[data-layer="0"]').click();
      await page.waitForFunction(() => [...document.querySelectorAll('table.stats th')].some((th) => th.textContent?.startsWith('∂L/∂a ←')));
      const rows = await page.locator('table.stats th').allTextContents();
      assert.ok(rows.includes(`∂L/∂a ← ${nodes[1].name}`) && rows.includes(`∂L/∂a ← ${nodes[2].name}`), rows.join(' | '));
      assert.ok(rows.includes('∂L/∂a'), 'and the sum');
      assert.equal(await page.locator('.network-edges path.graph-edge:not(.loss-edge)').count(), residual.meta.model.graph!.edges.length);
      assertNoErrors(panel);
    } finally {
      residual.close();
    }
  });

  it('the narration names the graph’s neighbours: what a node reads, where its gradient goes, whose parts it sums, each output’s loss', async function () {
    const nodes = reader.meta.model.layers;
    const stops = phaseStops(nodes.length);
    panel = await openPanel(browser, server, new TraceHost(reader));
    const told = async (page: PanelPage['page'], phase: string, layer: number) => {
      const at = stops.findIndex((s) => s.phase === phase && s.layer === layer);
      await page.evaluate((i) => (window as unknown as PanelHandle).gradientLens.controller.goTo(0, i), at);
      await waitForStep(page, 0, at);
      return text(page, '#narration');
    };
    // Two inputs, a dense branch on each, concatenated: the concatenate reads both branches, and
    // passes its gradient back to both; a branch reads its input and passes nothing back.
    const concat = nodes.findIndex((n) => n.type === 'Concatenate');
    const [a, b] = [0, 1].map((i) => nodes[i].name);
    assert.match(await told(panel.page, 'forward', concat), new RegExp(`^Forward: for each of the \\d+ examples of the batch, ${nodes[concat].name} reads ${a} and ${b} and computes its \\d+ outputs\\.`));
    assert.equal(await told(panel.page, 'backward', concat), `Backward: ${nodes[concat].name} has no weights of its own: it carries the gradient through. The gradient is then passed back to ${a} and ${b}.`);
    assert.match(await told(panel.page, 'forward', 0), new RegExp(`^Forward: .*, ${a} reads left and multiplies its 4 inputs by its weights`));
    const branch = await told(panel.page, 'backward', 0);
    assert.match(branch, new RegExp(`^Backward: how much would the loss change if each weight of ${a} moved a little\\? That is ∂L/∂W \\(its size ‖∂L/∂W‖ = `));
    assert.doesNotMatch(branch, /passed back|sum of the parts/, 'a branch reads only its input');
    assert.doesNotMatch(await told(panel.page, 'loss', -1), /each output/, 'one output: one loss');
    assertNoErrors(panel);
    await panel.close();
    panel = undefined;

    // A trunk read by two heads, each an output: the trunk's ∂L/∂a sums what the heads send back,
    // the heads read the trunk, and the loss is the sum of the two outputs' losses.
    const twoOutput = TraceReader.open(graphRunDir('two-output-run', TWO_OUTPUT_MODEL));
    try {
      const heads = twoOutput.meta.model.layers;
      const graph = twoOutput.meta.model.graph!;
      assert.deepEqual(graph.outputs.map((o) => o.name).length, 2);
      const trunk = heads.findIndex((n) => graph.edges.filter((e) => !e.fromInput && e.from === n.index).length === 2);
      assert.ok(trunk >= 0, 'the trunk is read twice');
      const [classes, value] = ['classes', 'value'].map((n) => heads.findIndex((h) => h.name.startsWith(n)));
      const twoStops = phaseStops(heads.length);
      panel = await openPanel(browser, server, new TraceHost(twoOutput));
      const page = panel.page;
      const at = async (phase: string, layer: number) => {
        const i = twoStops.findIndex((s) => s.phase === phase && s.layer === layer);
        await page.evaluate((k) => (window as unknown as PanelHandle).gradientLens.controller.goTo(0, k), i);
        await waitForStep(page, 0, i);
        return text(page, '#narration');
      };
      assert.match(await at('backward', trunk), new RegExp(`Its ∂L/∂a is the sum of the parts from ${heads[classes].name} and ${heads[value].name}\\.$`));
      assert.match(await at('forward', value), new RegExp(`, ${heads[value].name} reads ${heads[trunk].name} and multiplies`));
      // An output head hears from the loss only: one part, nothing summed; it passes back to the trunk.
      assert.match(await at('backward', classes), new RegExp(`That is ∂L/∂W \\(its size ‖∂L/∂W‖ = [^)]+\\)\\. The gradient is then passed back to ${heads[trunk].name}\\.$`));
      const loss = await at('loss', -1);
      assert.match(loss, new RegExp(`^Loss: each output's predictions \\(${graph.outputs[0].name} and ${graph.outputs[1].name}\\) are compared with its targets; the batch's loss, the sum of each output's loss, is −?[\\d.]+`));
      assertNoErrors(panel);
    } finally {
      twoOutput.close();
    }
  });
});
