// End-to-end in the real workbench: F1 → "Gradient Lens: Run Lesson…", pick the first lesson,
// see the panel beside the code, step forward one phase, take a screenshot. Waits only on
// selectors and conditions, never on time.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openWorkbench, workbenchUrl } from './workbench.mjs';

// The panel is two frames deep: VS Code's webview host iframe, then the content frame.
function panelFrame(page) {
  return page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
}

async function runCommand(page, title) {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await input.fill(`>${title}`);
  await page.locator(`.quick-input-list .monaco-list-row:has-text("${title}")`).first().waitFor();
  await page.keyboard.press('Enter');
}

/** Reads the phase caption the panel shows in words (the step-through bar's status). */
async function phaseCaption(frame) {
  return (await frame.locator('[data-testid="position"]').first().textContent())?.trim() ?? '';
}

export async function runLessonEndToEnd({ context, server, folder, extensionPath, artifactsDir, log }) {
  const lessons = JSON.parse(readFileSync(join(extensionPath, 'samples/lessons.json'), 'utf8'));
  const first = lessons[0];
  const url = workbenchUrl(server, folder, [
    ['extensionDevelopmentPath', server.remoteUri(extensionPath)],
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

    // The panel opens beside the code: its editor group is not the first one.
    const frame = panelFrame(page);
    await frame.locator('[data-testid="position"]').first().waitFor({ timeout: 60_000 });
    const groups = await page.locator('.editor-group-container').count();
    if (groups < 2) throw new Error(`expected the panel beside the code, found ${groups} editor group(s)`);
    const modelTab = page.locator('.tabs-container .tab', { hasText: 'model.ts' });
    await modelTab.first().waitFor();

    // Step forward one phase from the panel's step-through bar and wait for the caption to change.
    const before = await phaseCaption(frame);
    await frame.locator('[data-testid="next-phase"]').first().click();
    await frame
      .locator('[data-testid="position"]')
      .first()
      .filter({ hasNotText: before })
      .waitFor({ timeout: 30_000 });
    const after = await phaseCaption(frame);
    log(`[e2e] stepped one phase: "${before}" → "${after}"`);

    mkdirSync(artifactsDir, { recursive: true });
    const shot = join(artifactsDir, 'vscode-lesson-panel.png');
    await page.screenshot({ path: shot });
    log(`[e2e] screenshot: ${shot}`);
    return { before, after, screenshot: shot };
  } catch (e) {
    mkdirSync(artifactsDir, { recursive: true });
    await page.screenshot({ path: join(artifactsDir, 'vscode-lesson-failure.png') }).catch(() => {});
    throw e;
  } finally {
    await page.close();
  }
}
