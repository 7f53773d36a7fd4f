// What a user gets: the packaged .vsix, installed into code-server, in a bare workspace folder
// outside the repository (no node_modules, default settings), driven through the UI the way a
// person would. Run Lesson… → lesson 1 → every phase of step 0 with its numbers on screen →
// Continue to the end (finished, not failed) → no error in Problems for the lesson's file →
// the user's own model file, written into the workspace, traced to the end → reload, the panel
// comes back and the old window's runners are gone. Waits only on selectors and conditions.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openWorkbench, workbenchUrl } from './workbench.mjs';

const EXTENSION_ID = 'gradient-lens.gradient-lens';

// The panel is two frames deep: VS Code's webview host iframe, then the content frame. The
// lesson's markdown preview is a webview too: ours is picked by the extension id in its URL.
function panelFrame(page) {
  return page.frameLocator(`iframe.webview.ready[src*="extensionId=${EXTENSION_ID}"]`).last().frameLocator('#active-frame');
}

/**
 * Runs a command from the palette. The palette lists the commands known when it opens; an
 * extension whose contributions are still being registered is missing from it, so a palette
 * without the row is closed and opened again (bounded by `timeoutMs`).
 */
async function runCommand(page, title, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    await input.fill(`>${title}`);
    const row = page.locator(`.quick-input-list .monaco-list-row:has-text("${title}")`).first();
    try {
      await row.waitFor({ timeout: Math.min(5_000, Math.max(1, deadline - Date.now())) });
      await page.keyboard.press('Enter');
      return;
    } catch (e) {
      if (Date.now() >= deadline) throw e;
      await page.keyboard.press('Escape');
      await input.waitFor({ state: 'hidden' });
    }
  }
}

/** Runner processes (dist/runner.js) in the server's process group: its extension hosts' children. */
function runnerPids(server) {
  const out = execFileSync('ps', ['-eo', 'pid=,pgid=,stat=,args='], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([, pgid, stat, ...args]) => Number(pgid) === server.pgid && !stat?.startsWith('Z') && args.some((a) => a.endsWith('dist/runner.js')))
    .map(([pid]) => Number(pid));
}

async function waitUntil(what, predicate, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const text = async (locator) => ((await locator.textContent()) ?? '').trim();

/**
 * A code line as drawn, with the text of its decorations: VS Code draws an extension's `after`
 * text either as injected text or as a CSS ::after of a span, so both are read.
 */
async function lineWithDecorations(editor, hasText) {
  const line = editor.locator('.view-line', { hasText }).first();
  return line.evaluate((el) => {
    let out = '';
    for (const span of el.querySelectorAll('span')) {
      if (span.children.length === 0) out += span.textContent ?? '';
      for (const pseudo of ['::before', '::after']) {
        const content = getComputedStyle(span, pseudo).content;
        if (content && content !== 'none' && content !== 'normal') out += content.replace(/^"|"$/g, '');
      }
    }
    return out;
  });
}
const NUMBER = /^[-−]?\d[\d.,]*(e[-+−]?\d+)?$/;

/** The stops of one step for `layers` (src/shared/phases.ts#phaseStops, in words). */
function phaseWalk(layers) {
  const stops = layers.map((name, i) => ({ phase: 'forward', layer: i, words: `forward · ${name}` }));
  stops.push({ phase: 'loss', layer: -1, words: 'loss' });
  for (let i = layers.length - 1; i >= 0; i--) stops.push({ phase: 'backward', layer: i, words: `backward · ${layers[i]}` });
  stops.push({ phase: 'update', layer: -1, words: 'update' });
  return stops;
}

/** The layer card's statistics rows: [symbol, mean, std, min, max, zeros, NaN/Inf]. */
async function statRows(frame) {
  return frame.locator('.layer-panel tbody tr').evaluateAll((rows) => rows.map((tr) => [...tr.children].map((c) => (c.textContent ?? '').trim())));
}

/** Asserts a statistics row for `symbol` whose mean is a number. */
async function expectStatRow(frame, symbol, where) {
  const rows = await statRows(frame);
  const row = rows.find((r) => r[0] === symbol);
  if (!row) throw new Error(`${where}: the layer card has no ${symbol} row: ${JSON.stringify(rows)}`);
  if (!NUMBER.test(row[1])) throw new Error(`${where}: the mean of ${symbol} is "${row[1]}", not a number`);
  return row;
}

/** The Problems status bar entry, e.g. "Errors: 0, Warnings: 0" in its accessible name. */
async function problemCounts(page) {
  const label = (await page.locator('#status\\.problems a, #status\\.problems').first().getAttribute('aria-label')) ?? '';
  const errors = /(\d+) errors?/i.exec(label) ?? /Errors?: (\d+)/i.exec(label);
  return { label, errors: errors ? Number(errors[1]) : /no problems/i.test(label) ? 0 : NaN };
}

/** A user's own model, as someone would write it in a fresh folder: synthetic data, no imports beyond tfjs and the API. */
const USER_MODEL = `import * as tf from '@tensorflow/tfjs';
import { defineTraining } from 'gradient-lens';

// y = 3x − 1 with noise, learnt by one hidden layer.
const xs = tf.randomUniform([256, 1], -1, 1, 'float32', 7);
const ys = xs.mul(3).sub(1).add(tf.randomNormal([256, 1], 0, 0.05, 'float32', 8));

const model = tf.sequential({
  layers: [
    tf.layers.dense({ inputShape: [1], units: 16, activation: 'tanh' }),
    tf.layers.dense({ units: 1 }),
  ],
});

export default defineTraining({
  model,
  data: { train: { xs, ys } },
  loss: 'meanSquaredError',
  optimizer: tf.train.adam(0.05),
  batchSize: 32,
  steps: 40,
  seed: 3,
});
`;

/**
 * `workspace`: an empty folder outside the repository. `extensionPath`: the repository, only to
 * read which lesson comes first. Screenshots go to `artifactsDir`.
 */
export async function walkInstalledExtension({ context, server, workspace, extensionPath, artifactsDir, log }) {
  const lessons = JSON.parse(readFileSync(join(extensionPath, 'samples/lessons.json'), 'utf8'));
  const first = lessons[0];
  mkdirSync(artifactsDir, { recursive: true });
  const shot = async (page, name) => {
    // Monaco sometimes keeps a horizontal scroll after a click at the end of a long line.
    await page.evaluate(() => document.querySelectorAll('.monaco-scrollable-element.editor-scrollable').forEach((e) => (e.scrollLeft = 0)));
    const file = join(artifactsDir, `vsix-${name}.png`);
    await page.screenshot({ path: file });
    log(`[vsix] screenshot ${file}`);
    return file;
  };
  const url = workbenchUrl(server, workspace, [['skipWelcome', 'true']]);
  const { page } = await openWorkbench(context, url, log);
  const shots = [];
  try {
    await page.setViewportSize({ width: 1600, height: 1000 });
    await page.locator('.part.statusbar').waitFor({ timeout: 60_000 });
    await page.locator('.explorer-folders-view, .explorer-folders-view .monaco-list').first().waitFor({ timeout: 60_000 });

    // ---- Lesson 1, from the palette.
    await runCommand(page, 'Gradient Lens: Run Lesson…');
    const lessonRow = page.locator(`.quick-input-list .monaco-list-row:has-text("${first.title}")`).first();
    await lessonRow.waitFor({ timeout: 30_000 });
    await lessonRow.click();
    const frame = panelFrame(page);
    const state = frame.locator('#live-state');
    await state.filter({ hasText: 'paused before step 0' }).waitFor({ timeout: 120_000 });
    const groups = await page.locator('.editor-group-container').count();
    if (groups < 2) throw new Error(`expected the panel beside the code, found ${groups} editor group(s)`);
    await page.locator('.editor-group-container').nth(0).locator('.tab', { hasText: 'model.ts' }).waitFor();
    await frame.getByText('235,146 parameters').waitFor({ timeout: 30_000 });
    const entryPhase = await text(frame.locator('#phase'));
    if (!/^Phase 1\/8: forward/.test(entryPhase)) throw new Error(`held before step 0, the panel shows "${entryPhase}"`);
    const backend = await text(frame.locator('#backend'));
    log(`[vsix] lesson 1 held before step 0 (${backend}); panel beside the code`);
    shots.push(await shot(page, 'lesson1-entry'));

    // ---- Every phase of step 0: the runner's step button, then the numbers that phase computed.
    const layerNames = (await frame.locator('.layer-hit:not([data-layer="-1"])').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? ''))).map((l) => /^Layer ([^,]+),/.exec(l)?.[1] ?? l);
    const stops = phaseWalk(layerNames);
    if (stops.length !== 8) throw new Error(`lesson 1 should have 8 phases a step, found ${stops.length}: ${layerNames.join(', ')}`);
    const code = page.locator('.editor-group-container').nth(0);
    for (const [k, stop] of stops.entries()) {
      await frame.locator('#live-step-phase').click();
      await state.filter({ hasText: `at step 0, ${stop.words}` }).waitFor({ timeout: 60_000 });
      const where = `step 0, phase ${k + 1} (${stop.words})`;
      await frame.locator('#position').filter({ hasText: /^Step 0 \/ \d+ \(in progress\)$/ }).waitFor({ timeout: 10_000 });
      if (await frame.locator('#empty-run').isVisible()) throw new Error(`${where}: the panel still says "${await text(frame.locator('#empty-run'))}"`);
      const loss = await text(frame.locator('#loss'));
      if (stop.phase === 'forward') {
        if (!/not computed yet/.test(loss)) throw new Error(`${where}: the loss reads "${loss}" before the loss phase`);
        await frame.locator('#layer-title').filter({ hasText: new RegExp(`^${layerNames[stop.layer]} `) }).waitFor({ timeout: 10_000 });
        await expectStatRow(frame, 'a', where);
        if (stop.layer === 0) {
          await expectStatRow(frame, 'x', where);
          // The input photograph is drawn, and the editor's line of that layer ends with its numbers.
          await frame.locator('.sample-image').waitFor({ state: 'visible' });
          await frame.locator('#sample-target').filter({ hasText: /· prediction: not computed yet/ }).waitFor({ timeout: 10_000 });
          await waitUntil('the inline values of the first layer', async () => /± .*dead/.test(await lineWithDecorations(code, 'tf.layers.dense({')), 10_000);
          log(`[vsix] the editor's line of the first layer reads: ${await lineWithDecorations(code, 'tf.layers.dense({')}`);
        }
      } else {
        await frame.locator('#loss').filter({ hasText: /^loss \d+\.\d+/ }).waitFor({ timeout: 10_000 });
        // The loss chart has the held step's point, with the number the step bar says.
        const shown = /^loss (\S+)/.exec(await text(frame.locator('#loss')))?.[1];
        const said = `Step 0 (in progress): loss ${shown}.`;
        await waitUntil(`the loss chart to say "${said}"`, async () => ((await frame.locator('.loss-canvas').getAttribute('aria-label')) ?? '').includes(said), 10_000);
        // The example the loss compares: its target, and now what the network predicted for it.
        await frame.locator('#sample-target').filter({ hasText: /^Sample #\d+ · target: .+ · (✓ predicted correctly|✗ predicted .+)$/ }).waitFor({ timeout: 10_000 });
        if (stop.phase === 'loss') log(`[vsix] ${where}: the selected sample reads "${await text(frame.locator('#sample-target'))}"`);
      }
      if (stop.phase === 'backward') {
        await frame.locator('#layer-title').filter({ hasText: new RegExp(`^${layerNames[stop.layer]} `) }).waitFor({ timeout: 10_000 });
        await expectStatRow(frame, '∂L/∂a', where);
        await expectStatRow(frame, '∂L/∂W', where);
      }
      if (stop.phase === 'update') await expectStatRow(frame, 'ΔW', where);
      log(`[vsix] ${where}: ${loss}; ${JSON.stringify((await statRows(frame)).map((r) => `${r[0]} ${r[1]}`))}`);
      if (stop.phase === 'loss' || (stop.phase === 'forward' && stop.layer === 0) || (stop.phase === 'backward' && stop.layer === 0) || stop.phase === 'update') {
        shots.push(await shot(page, `lesson1-step0-${k + 1}-${stop.phase}`));
      }
    }

    // ---- Continue to the end: finished, not failed, with the loss curve.
    await frame.locator('#live-pause').click();
    await frame.locator('#run-state').filter({ hasText: /finished|failed|stopped/ }).waitFor({ timeout: 180_000 });
    const ended = await text(frame.locator('#run-state'));
    if (!/finished/.test(ended)) throw new Error(`lesson 1 ended "${ended}": ${await text(frame.locator('#error-banner')).catch(() => '')}`);
    await frame.locator('#position').filter({ hasText: /^Step 19 \/ 19$/ }).waitFor({ timeout: 10_000 });
    await page.locator('.statusbar-item', { hasText: /finished · step 19/ }).first().waitFor({ timeout: 10_000 });
    await frame.locator('#loss').filter({ hasText: /^loss \d+\.\d+ · accuracy/ }).waitFor({ timeout: 10_000 });
    log(`[vsix] lesson 1 finished: ${await text(frame.locator('#loss'))}`);
    shots.push(await shot(page, 'lesson1-finished'));

    // ---- The lesson's file has full types (the shipped typings) and no error in Problems. The
    // hover on `sequential` resolves to tfjs's declaration once the TypeScript server has the file.
    const sequential = code.locator('.view-line span', { hasText: /^sequential$/ }).first();
    await waitUntil('a typed hover on tf.sequential', async () => {
      await sequential.hover();
      const hover = page.locator('.monaco-hover:visible .hover-contents').first();
      const content = await hover.textContent({ timeout: 3_000 }).catch(() => '');
      if (/any/.test(content ?? '') && !/Sequential/.test(content ?? '')) throw new Error(`tf.sequential is untyped in the lesson: ${content}`);
      return /Sequential/.test(content ?? '');
    }, 120_000);
    await page.keyboard.press('Escape');
    const problems = await problemCounts(page);
    if (problems.errors !== 0) throw new Error(`Problems is not empty for the lesson: "${problems.label}"`);
    log(`[vsix] the lesson is typed (hover on tf.sequential) and Problems says "${problems.label}"`);

    // ---- The user's own file, written into the workspace, traced from the palette (the lesson's
    // editors closed first, as someone turning to their own work would).
    await runCommand(page, 'View: Close All Editors');
    await page.locator('.tab').first().waitFor({ state: 'detached', timeout: 10_000 }).catch(() => undefined);
    writeFileSync(join(workspace, 'my-model.ts'), USER_MODEL);
    await page.keyboard.press('Control+P');
    const quickOpen = page.locator('.quick-input-widget input');
    await quickOpen.waitFor({ state: 'visible' });
    await quickOpen.fill('my-model.ts');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'my-model.ts' }).first().waitFor({ timeout: 30_000 });
    await page.keyboard.press('Enter');
    await page.locator('.tab.active', { hasText: 'my-model.ts' }).waitFor({ timeout: 30_000 });
    await runCommand(page, 'Gradient Lens: Trace This File');
    await page.locator('.tab', { hasText: 'Gradient Lens · my-model.ts' }).first().waitFor({ timeout: 60_000 });
    const own = panelFrame(page);
    await own.locator('#model-name').waitFor({ timeout: 60_000 });
    // The status bar follows the active run: finished, or the run's failure.
    const ownStatus = page.locator('.statusbar-item', { hasText: /(finished|failed|stopped) · step/ }).first();
    await ownStatus.waitFor({ timeout: 120_000 });
    const ownEnded = await text(ownStatus);
    if (!/finished · step 39/.test(ownEnded)) throw new Error(`the user's model ended "${ownEnded}": ${await text(own.locator('#error-banner')).catch(() => '')}`);
    await own.locator('#position').filter({ hasText: /^Step 39 \/ 39$/ }).waitFor({ timeout: 10_000 });
    await own.locator('#loss').filter({ hasText: /^loss \d/ }).waitFor({ timeout: 10_000 });
    await own.getByText('49 parameters').first().waitFor({ timeout: 10_000 }).catch(async () => {
      throw new Error(`the user's model panel does not say 49 parameters: ${await text(own.locator('#total-params'))}`);
    });
    const ownLoss = await text(own.locator('#loss'));
    log(`[vsix] the user's own model finished: ${ownLoss}`);
    shots.push(await shot(page, 'own-model-finished'));

    // ---- After a reload the panel comes back, and the old window's runners are gone.
    const oldRunners = runnerPids(server);
    await runCommand(page, 'Developer: Reload Window');
    await page.waitForEvent('load', { timeout: 30_000 });
    const restored = panelFrame(page);
    await restored.locator('#model-name').waitFor({ timeout: 60_000 });
    // Restored means the numbers are back, not just the frame: the same step and loss, and the
    // layer card's table with a number in it (not "Loading…").
    await restored.locator('#position').filter({ hasText: /^Step 39 \/ 39$/ }).waitFor({ timeout: 30_000 });
    await restored.locator('#loss').filter({ hasText: ownLoss }).waitFor({ timeout: 30_000 }).catch(async () => {
      throw new Error(`the restored panel shows "${await text(restored.locator('#loss'))}", not "${ownLoss}"`);
    });
    await restored.locator('.layer-panel td', { hasText: /^−?\d/ }).first().waitFor({ timeout: 30_000 });
    log(`[vsix] the panel was restored after a reload: ${await text(restored.locator('#position'))}, ${await text(restored.locator('#loss'))}`);
    await waitUntil(`the old runners ${oldRunners.join(', ')} to exit`, () => !runnerPids(server).some((pid) => oldRunners.includes(pid)), 30_000);
    shots.push(await shot(page, 'restored'));
    return { screenshots: shots };
  } catch (e) {
    await page.screenshot({ path: join(artifactsDir, 'vsix-failure.png') }).catch(() => {});
    throw e;
  } finally {
    await page.close();
  }
}
