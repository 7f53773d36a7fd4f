// End-to-end in the real workbench: F1 → "Gradient Lens: Run Lesson…", pick the first lesson,
// see the panel beside the code, step forward one phase, take a screenshot. Waits only on
// selectors and conditions, never on time.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openWorkbench, workbenchUrl } from './workbench.mjs';

// The panel is two frames deep: VS Code's webview host iframe, then the content frame. The
// lesson's markdown preview is a webview too: pick ours by the extension id in the frame's URL.
function panelFrame(page) {
  return page
    .frameLocator('iframe.webview.ready[src*="extensionId=gradient-lens.gradient-lens"]')
    .frameLocator('#active-frame');
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
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The runner's state in words, as the panel's step-through bar shows it for a live run. */
async function liveState(frame) {
  return ((await frame.locator('#live-state').textContent()) ?? '').trim();
}

/**
 * `extensionPath` is where the lessons are read from; with `installed`, the workbench runs the
 * extension installed in the server (a .vsix) instead of loading it from `extensionPath`.
 */
export async function runLessonEndToEnd({ context, server, folder, extensionPath, installed = false, artifactsDir, log }) {
  const lessons = JSON.parse(readFileSync(join(extensionPath, 'samples/lessons.json'), 'utf8'));
  const first = lessons[0];
  const url = workbenchUrl(server, folder, [
    ...(installed ? [] : [['extensionDevelopmentPath', server.remoteUri(extensionPath)]]),
    ['skipWelcome', 'true'],
  ]);
  const { page } = await openWorkbench(context, url, log);
  try {
    await page.setViewportSize({ width: 1600, height: 1000 });
    await page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ timeout: 60_000 });

    await runCommand(page, 'Gradient Lens: Run Lesson…');
    // The lesson quick pick replaces the command list in the same widget.
    const lessonRow = page.locator(`.quick-input-list .monaco-list-row:has-text("${first.title}")`).first();
    await lessonRow.waitFor({ timeout: 30_000 });
    await lessonRow.click();

    // The panel opens beside the code, and the lesson's run holds before its first phase.
    const frame = panelFrame(page);
    const state = frame.locator('#live-state');
    await state.filter({ hasText: /paused at step 0/ }).waitFor({ timeout: 90_000 });
    const groups = await page.locator('.editor-group-container').count();
    if (groups < 2) throw new Error(`expected the panel beside the code, found ${groups} editor group(s)`);
    // The code in the first group; the panel and the lesson's narrative in the second.
    await page.locator('.editor-group-container').nth(0).locator('.tab', { hasText: 'model.ts' }).waitFor();
    await page.locator('.editor-group-container').nth(1).locator('.tab.active', { hasText: 'Gradient Lens' }).waitFor();
    await page.locator('.editor-group-container').nth(1).locator('.tab', { hasText: 'README.md' }).waitFor();

    // Step the runner forward one phase from the panel and wait for it to say where it holds.
    const before = await liveState(frame);
    await frame.locator('#live-step-phase').click();
    await state.filter({ hasNotText: before }).filter({ hasText: /paused at step 0/ }).waitFor({ timeout: 30_000 });
    const after = await liveState(frame);
    log(`[e2e] stepped one phase: "${before}" → "${after}"`);
    // The editor follows: the status bar item shows the held run.
    await page.locator('.statusbar-item', { hasText: 'paused · step 0' }).first().waitFor({ timeout: 10_000 });
    mkdirSync(artifactsDir, { recursive: true });
    const shot = join(artifactsDir, installed ? 'vscode-vsix-lesson-panel.png' : 'vscode-lesson-panel.png');
    await page.screenshot({ path: shot });
    log(`[e2e] screenshot: ${shot}`);

    // The cursor on the second layer's line selects that layer in the panel.
    const title = frame.locator('#layer-title');
    const firstTitle = ((await title.textContent()) ?? '').trim();
    await page.locator('.editor-group-container').nth(0).locator('.view-line', { hasText: 'units: 128' }).click();
    // (The layer card is hidden until a step is recorded; its title is there all the same.)
    await title.filter({ hasNotText: firstTitle }).waitFor({ state: 'attached', timeout: 10_000 });
    log(`[e2e] cursor on line 14 selected "${((await title.textContent()) ?? '').trim()}" in the panel`);
    // Picking the third layer in the panel puts the editor's cursor on its line (15).
    await frame.locator('.layer-hit[data-layer="2"]').click();
    await page.locator('.editor-group-container').nth(0).locator('.tab', { hasText: 'model.ts' }).click();
    await page.locator('.statusbar-item', { hasText: /Ln 15, Col/ }).first().waitFor({ timeout: 10_000 });
    log('[e2e] picking layer 2 in the panel revealed line 15');

    // After a reload the panel comes back (WebviewPanelSerializer) with the recorded run.
    // Through the workbench's own command: it saves the open editors before it reloads (a bare
    // page reload may not). The old window's extension host is told to terminate: deactivate()
    // must take its runners (the lesson's, the model-info one) with it.
    const oldRunners = runnerPids(server);
    if (oldRunners.length === 0) throw new Error('no runner process found before the reload');
    await runCommand(page, 'Developer: Reload Window');
    await page.waitForEvent('load', { timeout: 30_000 });
    await panelFrame(page).locator('#model-name').waitFor({ timeout: 60_000 });
    await panelFrame(page).getByText('235,146 parameters').waitFor({ timeout: 30_000 });
    log('[e2e] the panel was restored after a reload');
    await waitUntil(`the old runners ${oldRunners.join(', ')} to exit`, () => !runnerPids(server).some((pid) => oldRunners.includes(pid)), 30_000);
    log(`[e2e] the old window's runners (${oldRunners.join(', ')}) are gone`);
    await page.screenshot({ path: join(artifactsDir, installed ? 'vscode-vsix-restored-panel.png' : 'vscode-restored-panel.png') });
    return { before, after, screenshot: shot };
  } catch (e) {
    mkdirSync(artifactsDir, { recursive: true });
    await page.screenshot({ path: join(artifactsDir, 'vscode-lesson-failure.png') }).catch(() => {});
    throw e;
  } finally {
    await page.close();
  }
}
