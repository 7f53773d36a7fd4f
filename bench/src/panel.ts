// Benchmark 5: the panel in headless Chromium, reusing the webview tests' harness (the built
// dist/webview.js under the real panel HTML and CSP, a host answering from a TraceReader).
// - paint: from the moment the step's `stepData` message reaches the page to the end of the
//   frame that shows it (a setTimeout(0) queued from the redraw runs after that frame's paint);
// - memory: JS heap and DOM nodes after a forced GC, before and after scrubbing the 100,000-step
//   trace from end to end (one slider move per animation frame, latest wins, as a drag does).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { startHarnessServer, type HarnessServer } from '../../test/webview/harnessPage';
import { TraceHost } from '../../test/webview/traceHost';
import { TraceReader } from '../../src/trace/traceReader';
import { ROOT, emit, log, median, quantile, round } from './common';

/** What the page scripts below use: the panel's debugging handle and a few browser globals (typed here: this tsconfig has no DOM). */
interface Page {
  gradientLens: {
    store: {
      state: { step: number; loading: boolean; record?: { step: number }; paramRecord?: { step: number } };
      onFlushed: ((ms: number, changed: ReadonlySet<string>) => void) | undefined;
    };
    controller: { goTo(step: number, phase?: number): void; keyframeFor(step: number): number };
    paints: number[];
  };
  requestAnimationFrame(cb: () => void): number;
  addEventListener(type: 'message', listener: (e: { data: unknown }) => void, capture: boolean): void;
  setTimeout(cb: () => void, ms: number): number;
}

/** Chromium as the webview tests launch it (test/webview/panelDriver.ts). */
function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--js-flags=--expose-gc'],
  });
}

/** Opens the harness page with `host` answering the panel, and waits until a step is shown. */
async function openPanel(browser: Browser, server: HarnessServer, host: TraceHost) {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 }, deviceScaleFactor: 1 });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(`console: ${m.text()}`);
  });
  await page.exposeFunction('__harnessToHost', (m: Parameters<TraceHost['handle']>[0]) => host.handle(m));
  await page.goto(server.url('dark'));
  await page.waitForFunction(() => {
    const st = (globalThis as unknown as Partial<Page>).gradientLens?.store.state;
    return Boolean(st?.record && !st.loading);
  });
  return { page, errors, close: () => page.close() };
}

export async function panelMain(args: string[]): Promise<void> {
  const dir = args[0];
  if (!fs.existsSync(path.join(ROOT, 'dist/webview.js'))) throw new Error('dist/webview.js is missing (the webview bundle is not built)');
  const reader = TraceReader.open(dir);
  const [browser, server] = await Promise.all([launchChromium(), startHarnessServer()]);
  try {
    const host = new TraceHost(reader);
    const t0 = performance.now();
    const panel = await openPanel(browser, server, host);
    const openMs = performance.now() - t0;
    const { page } = panel;
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    // JS heap plus the typed arrays' backing stores (a record's tensors live there, not in the heap).
    const heap = async () => {
      await cdp.send('HeapProfiler.collectGarbage');
      const { metrics } = await cdp.send('Performance.getMetrics');
      const m = Object.fromEntries(metrics.map((x) => [x.name, x.value]));
      const usage = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number; backingStorageSize?: number; embedderHeapUsedSize?: number };
      const backing = usage.backingStorageSize ?? 0;
      return { heapMB: (usage.usedSize + backing) / 1e6, jsHeapMB: usage.usedSize / 1e6, backingStoreMB: backing / 1e6, nodes: m.Nodes, listeners: m.JSEventListeners };
    };

    // Paint: step changes to ordinary steps across the run, one at a time.
    const n = reader.stepCount;
    const every = reader.meta.config.capture.keyframeEvery;
    const targets: number[] = [];
    for (let k = 0; k < 40; k++) {
      let s = Math.floor(((k * 7919) % 997) / 997 * (n - 2)) + 1;
      if (every > 0 && s % every === 0) s++;
      targets.push(s);
    }
    log('panel: paint');
    const paint = await page.evaluate(async (steps) => {
      const gl = (globalThis as unknown as Page).gradientLens;
      const g = globalThis as unknown as Page;
      const frame = () => new Promise<void>((r) => g.requestAnimationFrame(() => r()));
      let want = -1;
      let arrived = 0;
      let flushedAt = 0;
      let flushMs = 0;
      let painted: (() => void) | undefined;
      g.addEventListener(
        'message',
        (e) => {
          const body = (e.data as { body?: { type?: string; record?: { step: number } } })?.body;
          if (body?.type === 'stepData' && body.record?.step === want) arrived = performance.now();
        },
        true,
      );
      const original = gl.store.onFlushed;
      gl.store.onFlushed = (ms, changed) => {
        original?.(ms, changed);
        if (painted && changed.has('record') && gl.store.state.record?.step === want) {
          flushedAt = performance.now();
          flushMs = ms;
          const done = painted;
          painted = undefined;
          g.setTimeout(done, 0);
        }
      };
      const out: { messageToPaintMs: number; messageToFlushEndMs: number; flushMs: number; requestToPaintMs: number }[] = [];
      for (const s of steps) {
        want = s;
        arrived = 0;
        const t0 = performance.now();
        const shown = new Promise<void>((r) => (painted = r));
        gl.controller.goTo(s);
        await shown;
        const t1 = performance.now();
        out.push({ messageToPaintMs: t1 - arrived, messageToFlushEndMs: flushedAt - arrived, flushMs, requestToPaintMs: t1 - t0 });
        // Let the keyframe's weights arrive too before the next change.
        while (gl.store.state.loading || ![s, gl.controller.keyframeFor(s)].includes(gl.store.state.paramRecord?.step ?? -1)) await frame();
        await frame();
      }
      gl.store.onFlushed = original;
      return out;
    }, targets);

    // Memory: first visit steps across the whole run one after another (each step and its
    // keyframe's weights loaded and shown), then drag across it, one position per frame.
    // Visits: steps across the whole run, one after another, each shown with its keyframe's
    // weights (`offset` shifts the set, so the second round sees other records).
    const visit = (count: number, offset: number) =>
      page.evaluate(async ([count, last, every, offset]) => {
        const gl = (globalThis as unknown as Page).gradientLens;
        const g = globalThis as unknown as Page;
        const frame = () => new Promise<void>((r) => g.requestAnimationFrame(() => r()));
        for (let k = 0; k < count; k++) {
          let s = Math.min(last, Math.round((k / (count - 1)) * last) + offset);
          if (every > 0 && s % every === 0 && s < last) s++;
          gl.controller.goTo(s);
          // The weights shown are the step's own at a keyframe (the last step is one), else its keyframe's.
          const weightsShown = () => [s, gl.controller.keyframeFor(s)].includes(gl.store.state.paramRecord?.step ?? -1);
          while (gl.store.state.loading || gl.store.state.record?.step !== s || !weightsShown()) await frame();
        }
      }, [count, n - 1, every, offset] as const);
    // A drag: one slider position per animation frame from `from` to `to` (latest wins).
    const drag = (from: number, to: number, count: number) =>
      page.evaluate(async ([from, to, count]) => {
        const gl = (globalThis as unknown as Page).gradientLens;
        const g = globalThis as unknown as Page;
        const frame = () => new Promise<void>((r) => g.requestAnimationFrame(() => r()));
        let shown = 0;
        let seen = -1;
        for (let k = 0; k <= count; k++) {
          gl.controller.goTo(Math.round(from + (k / count) * (to - from)));
          await frame();
          const r = gl.store.state.record?.step ?? -1;
          if (r !== seen) {
            shown++;
            seen = r;
          }
        }
        while (gl.store.state.loading || gl.store.state.record?.step !== to) await frame();
        return { moves: count + 1, distinctStepsShown: shown };
      }, [from, to, count] as const);

    // Memory is compared between two moments with the panel's record cache full (it keeps a few
    // records, keyframes among them, by design): after a first round of visits, and after the
    // drag across the whole run and back plus a second round of visits to other steps.
    const visits = 30;
    const positions = 1000;
    const opened = await heap();
    log('panel: visit (1)');
    const visitT0 = performance.now();
    await visit(visits, 0);
    const visitMs = performance.now() - visitT0;
    const before = await heap();
    log('panel: drag');
    const scrubT0 = performance.now();
    const scrub = await drag(0, n - 1, positions);
    await drag(n - 1, 0, positions);
    const scrubMs = performance.now() - scrubT0;
    const after = await heap();
    log('panel: visit (2)');
    await visit(visits, 17);
    const afterBack = await heap();
    const errors = panel.errors.slice(0, 5);
    await panel.close();

    const pick = (k: keyof (typeof paint)[number]) => paint.map((p) => p[k]);
    emit({
      openMs: round(openMs, 0),
      paintMs: round(median(pick('messageToPaintMs')), 2),
      paintP90Ms: round(quantile(pick('messageToPaintMs'), 0.9), 2),
      messageToRedrawEndMs: round(median(pick('messageToFlushEndMs')), 2),
      redrawWorkMs: round(median(pick('flushMs')), 2),
      requestToPaintMs: round(median(pick('requestToPaintMs')), 2),
      stepChanges: paint.length,
      memoryGrowthMB: round(afterBack.heapMB - before.heapMB, 2),
      jsHeapGrowthMB: round(afterBack.jsHeapMB - before.jsHeapMB, 2),
      memory: Object.fromEntries(
        Object.entries({ opened, afterVisits: before, afterDragThereAndBack: after, afterSecondVisits: afterBack }).map(([k, v]) => [k, { heapPlusBackingMB: round(v.heapMB, 1), jsHeapMB: round(v.jsHeapMB, 1), backingStoreMB: round(v.backingStoreMB, 1), domNodes: v.nodes, listeners: v.listeners }]),
      ),
      visits: { count: visits, seconds: round(visitMs / 1000, 1), msPerVisit: round(visitMs / visits, 0) },
      drag: { ...scrub, seconds: round(scrubMs / 1000, 1), steps: n },
      pageErrors: errors,
    });
  } finally {
    await browser.close();
    await server.close();
    reader.close();
  }
}
