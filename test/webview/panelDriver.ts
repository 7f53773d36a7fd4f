// Drives one panel page in headless Chromium: opens the harness page for a theme with a host,
// waits for the panel to show a step, and reads what the tests assert on.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Envelope, FromWebview } from '../../src/shared/protocol';
import { ROOT, type HarnessServer, type ThemeName } from './harnessPage';
import type { TraceHost } from './traceHost';

export const ARTIFACTS = path.join(ROOT, 'test/artifacts');

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--js-flags=--expose-gc',
    ],
  });
}

export interface PanelPage {
  page: Page;
  host: TraceHost;
  errors: string[];
  /** Replace the host that answers this page (the binding stays). */
  setHost(host: TraceHost): void;
  close(): Promise<void>;
}

export async function openPanel(browser: Browser, server: HarnessServer, host: TraceHost, theme: ThemeName = 'light', waitForRecord = true): Promise<PanelPage> {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 }, deviceScaleFactor: 1 });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    // Resource failures are reported with their URL below.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(`console: ${m.text()}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400) errors.push(`${r.status()} ${r.url()}`);
  });
  const panel: PanelPage = {
    page,
    host,
    errors,
    setHost(h) {
      panel.host = h;
    },
    close: () => page.close(),
  };
  await page.exposeFunction('__harnessToHost', (m: Envelope<FromWebview>) => panel.host.handle(m));
  await page.goto(server.url(theme));
  if (waitForRecord) await waitForStep(page, undefined);
  else await page.waitForFunction(() => document.getElementById('app')?.getAttribute('aria-busy') === 'false');
  return panel;
}

/** Waits until the panel shows `step` (any step when undefined) with its record loaded. */
export async function waitForStep(page: Page, step: number | undefined, phase?: number): Promise<void> {
  await page.waitForFunction(
    ([s, p]) => {
      const gl = (window as unknown as { gradientLens?: { store: { state: { step: number; phaseIndex: number; record?: { step: number }; loading: boolean } } } }).gradientLens;
      const st = gl?.store.state;
      if (!st || !st.record || st.loading) return false;
      if (s !== null && (st.step !== s || st.record.step !== s)) return false;
      if (p !== null && st.phaseIndex !== p) return false;
      // The DOM is updated on the next animation frame: wait for it too.
      if (!(document.getElementById('phase')?.textContent ?? '').startsWith(`Phase ${st.phaseIndex + 1}/`)) return false;
      const pos = document.getElementById('position')?.textContent ?? '';
      return pos.startsWith(`Step ${(st.step).toLocaleString('en-US')} `);
    },
    [step ?? null, phase ?? null] as const,
  );
}

/**
 * Resolves after the page's next animation frame. The store writes state changes to the DOM in
 * an animation-frame callback registered when the state changed, so once a test has seen a state
 * change, this frame's callbacks (which run in order) have painted it.
 */
export async function painted(page: Page): Promise<void> {
  await page.evaluate(() => new Promise<void>((resolve) => requestAnimationFrame(() => resolve())));
}

export async function text(page: Page, selector: string): Promise<string> {
  return (await page.locator(selector).textContent()) ?? '';
}

export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

export function assertNoErrors(panel: PanelPage): void {
  assert.deepEqual(panel.errors, [], 'the page logged errors');
}

/** After a test: no CSP violation, no page error, then the page closed. */
export async function closeChecked(panel: PanelPage): Promise<void> {
  const violations = await panel.page.evaluate(() => (window as unknown as { __harness: { violations: unknown[] } }).__harness.violations);
  assert.deepEqual(violations, [], 'CSP violations');
  assertNoErrors(panel);
  await panel.close();
}
