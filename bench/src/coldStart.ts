// Benchmark 3: cold start. Spawns the built runner (dist/runner.js) through RunnerClient, as the
// extension and the CLI do, starts lesson 1, and times spawn → hello (Node + tfjs + backend),
// → started (bundling and loading the user's model file and its data), → first stepDone; and,
// from the runner's own clock (GRADIENT_LENS_TIMING=1, src/runner/startupTiming.ts), when each
// stage of its start ended.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RunnerClient } from '../../src/host/runnerClient';
import { ROOT, emit, log, median, round } from './common';

export const LESSON_1 = 'samples/01-what-is-a-neural-network/model.ts';

interface ColdRun {
  /** Spawn → hello; in a warm run, how long the runner took to come up before it was used. */
  helloMs: number;
  startedMs: number;
  firstStepMs: number;
  firstStepComputeMs: number;
  backend: string;
  /** When each stage of the runner's start ended, in ms on its clock (cold: since its process started; warm: since the start request). */
  stages: Record<string, number>;
}

/** The runner's timing line ("timing: loaded 201.3 (+201.3), hello 240.2 (+38.9), …") as stage → ms. */
function parseStages(text: string): Record<string, number> {
  const stages: Record<string, number> = {};
  for (const part of text.replace(/^timing: /, '').split(', ')) {
    const m = /^(.+) (\d+(?:\.\d+)?) \(\+\d+(?:\.\d+)?\)$/.exec(part);
    if (m) stages[m[1]] ??= Number(m[2]);
  }
  return stages;
}

/** Only the stages every run went through, each as its median, in the order of the first run. */
function medianStages(runs: ColdRun[]): Record<string, number> {
  const names = Object.keys(runs[0]?.stages ?? {}).filter((name) => runs.every((r) => name in r.stages));
  return Object.fromEntries(names.map((name) => [name, round(median(runs.map((r) => r.stages[name])), 1)]));
}

/**
 * One run of lesson 1. Cold: the clock starts at spawn (the CLI's case). Warm: the runner is
 * spawned and has said hello, and has idled a moment, before the clock starts at `start` (the
 * extension's case: src/extension/warmRunners.ts keeps such a runner ready), so every figure
 * after hello counts from the user's "Trace This File".
 */
async function coldRun(warm = false): Promise<ColdRun> {
  const runnerPath = path.join(ROOT, 'dist/runner.js');
  if (!fs.existsSync(runnerPath)) throw new Error(`${runnerPath} is missing: npm run build`);
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gl-cold-'));
  const t0 = performance.now();
  const client = RunnerClient.spawn({ runnerPath, cwd: ROOT, helloTimeoutMs: 60_000 });
  try {
    let firstStep: { at: number; stepMs: number } | undefined;
    let stages: Record<string, number> = {};
    // The runner tells its stages right after the first stepDone: wait for that line too.
    let toldStages!: () => void;
    const stagesTold = new Promise<void>((resolve) => (toldStages = resolve));
    const stepped = new Promise<void>((resolve, reject) => {
      client.onMessage((msg) => {
        if (msg.type === 'log' && msg.text.startsWith('timing: ')) {
          stages = parseStages(msg.text);
          toldStages();
        } else if (msg.type === 'stepDone' && !firstStep) {
          firstStep = { at: performance.now(), stepMs: msg.stepMs };
          resolve();
        } else if (msg.type === 'failed') {
          reject(new Error(msg.error.message));
        }
      });
    });
    const hello = await client.ready;
    let tHello = performance.now();
    const withStages = async (run: Omit<ColdRun, 'stages'>): Promise<ColdRun> => {
      await Promise.race([stagesTold, new Promise((r) => setTimeout(r, 5000))]);
      if (!warm || stages['request start'] === undefined) return { ...run, stages };
      const since = stages['request start'];
      return { ...run, stages: Object.fromEntries(Object.entries(stages).filter(([, at]) => at >= since).map(([name, at]) => [name, at - since])) };
    };
    if (warm) {
      await new Promise((r) => setTimeout(r, 300));
      const up = tHello - t0;
      tHello = performance.now();
      return await withStages(await timeFromStart(client, stepped, outDir, hello.backend.name, tHello, up, () => firstStep));
    }
    return await withStages(await timeFromStart(client, stepped, outDir, hello.backend.name, t0, tHello - t0, () => firstStep));
  } finally {
    await client.stop(2000).catch(() => undefined);
    client.dispose();
    fs.rmSync(outDir, { recursive: true, force: true });
  }
}

/** start → started → first stepDone; times from `t0`. */
async function timeFromStart(
  client: RunnerClient,
  stepped: Promise<void>,
  outDir: string,
  backend: string,
  t0: number,
  helloMs: number,
  firstStep: () => { at: number; stepMs: number } | undefined,
): Promise<Omit<ColdRun, 'stages'>> {
  await client.start({ file: path.join(ROOT, LESSON_1), outDir, overrides: { steps: 2 }, lesson: '01-what-is-a-neural-network' });
  const tStarted = performance.now();
  await Promise.race([stepped, new Promise((_, reject) => setTimeout(() => reject(new Error('no stepDone within 60 s')), 60_000))]);
  const first = firstStep()!;
  return { helloMs, startedMs: tStarted - t0, firstStepMs: first.at - t0, firstStepComputeMs: first.stepMs, backend };
}

// What "hello" is made of, in a bare Node process: loading tfjs as a plain script does (the
// whole @tensorflow/tfjs bundle: core, layers, converter, data, cpu and webgl backends; the
// runner defers the converter and webgl, src/runner/deferredPackages.ts, and its stage marks
// show what it loads), the wasm backend's initialisation, and esbuild (which the runner loads to
// bundle the model file).
const STARTUP_PROBE = `
const t0 = performance.now();
const tf = require('@tensorflow/tfjs');
const t1 = performance.now();
const wasm = require('@tensorflow/tfjs-backend-wasm');
wasm.setWasmPaths(require('path').dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + '/');
const t2 = performance.now();
tf.setBackend('wasm').then(() => tf.ready()).then(() => {
  const t3 = performance.now();
  require('esbuild');
  const t4 = performance.now();
  console.log(JSON.stringify({ requireTfjs: t1 - t0, requireWasmBackend: t2 - t1, wasmInit: t3 - t2, requireEsbuild: t4 - t3 }));
});
`;

function startupPhases(runs: number): Record<string, number> {
  const all: Record<string, number[]> = {};
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    spawnSync(process.execPath, ['-e', '0']);
    (all['bare node -e 0 (process start and exit)'] ??= []).push(performance.now() - t0);
    const r = spawnSync(process.execPath, ['-e', STARTUP_PROBE], { cwd: ROOT, encoding: 'utf8' });
    try {
      for (const [k, v] of Object.entries(JSON.parse(r.stdout.trim()) as Record<string, number>)) (all[k] ??= []).push(v);
    } catch {
      log(`startup probe failed: ${r.stderr.slice(0, 300)}`);
    }
  }
  return Object.fromEntries(Object.entries(all).map(([k, v]) => [k, round(median(v), 1)]));
}

export async function coldStartMain(args: string[]): Promise<void> {
  const runs = args.includes('--quick') ? 2 : 5;
  // The runners this benchmark spawns inherit it: each tells when its stages ended.
  process.env.GRADIENT_LENS_TIMING = '1';
  const all: ColdRun[] = [];
  const warmRuns: ColdRun[] = [];
  // Cold and warm alternate, so load on the machine falls on both alike.
  for (let i = 0; i < runs; i++) {
    const r = await coldRun();
    log(`cold start ${i + 1}/${runs}: hello ${r.helloMs.toFixed(0)} ms, started ${r.startedMs.toFixed(0)} ms, first stepDone ${r.firstStepMs.toFixed(0)} ms (step compute ${r.firstStepComputeMs.toFixed(0)} ms)`);
    all.push(r);
    const w = await coldRun(true);
    log(`warm start ${i + 1}/${runs}: start → started ${w.startedMs.toFixed(0)} ms, → first stepDone ${w.firstStepMs.toFixed(0)} ms (runner was up after ${w.helloMs.toFixed(0)} ms)`);
    warmRuns.push(w);
  }
  log(`cold start: runner stages (ms since its process started) ${JSON.stringify(medianStages(all))}`);
  log(`warm start: runner stages (ms since the start request) ${JSON.stringify(medianStages(warmRuns))}`);
  const phases = startupPhases(3);
  log(`cold start: startup phases ${JSON.stringify(phases)}`);
  const med = (k: keyof Omit<ColdRun, 'backend' | 'stages'>, from = all) => round(median(from.map((r) => r[k])), 1);
  emit({
    warm: {
      firstStepMs: med('firstStepMs', warmRuns),
      startedMs: med('startedMs', warmRuns),
      firstStepComputeMs: med('firstStepComputeMs', warmRuns),
      runs: warmRuns.map((r) => ({ startedMs: round(r.startedMs, 1), firstStepMs: round(r.firstStepMs, 1), upAfterMs: round(r.helloMs, 1) })),
      runnerStagesMs: medianStages(warmRuns),
    },
    coldStartMs: med('firstStepMs'),
    helloMs: med('helloMs'),
    startedMs: med('startedMs'),
    firstStepComputeMs: med('firstStepComputeMs'),
    backend: all[0]?.backend,
    startupPhases: phases,
    runnerStagesMs: medianStages(all),
    runs: all.map(({ stages: _, ...r }) => ({ ...r, helloMs: round(r.helloMs, 1), startedMs: round(r.startedMs, 1), firstStepMs: round(r.firstStepMs, 1), firstStepComputeMs: round(r.firstStepComputeMs, 1) })),
  });
}
