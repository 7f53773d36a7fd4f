// `npm run bench`: runs every benchmark in its own child process (a fresh tfjs, a clean heap),
// collects their results, and writes bench/results.json and bench/results.md.
//   node out/bench/bin/main.js                 all benchmarks
//   node out/bench/bin/main.js --quick         fewer rounds and a 10,000-step trace (a smoke run)
//   node out/bench/bin/main.js report          results.md again from results.json and NOTES.md
//   node out/bench/bin/main.js <name> [args]   one benchmark: step, capture, cold, trace-write, trace-read, panel,
//                                               conv [lesson13|midsize]
//   node out/bench/bin/main.js lesson12 --record   lesson 12 end to end, into results.json (then `report`)
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RESULT_PREFIX, ROOT, log } from './common';
import { captureMain } from './capture';
import { coldStartMain } from './coldStart';
import { convMain } from './conv';
import { lessonMain } from './lessonRun';
import { panelMain } from './panel';
import { writeReport, type Collected } from './report';
import { stepMain } from './step';
import { summarizeProbeMain } from './summarizeProbe';
import { TRACE_STEPS, traceReadMain, traceWriteMain } from './traceScale';

const COMMANDS: Record<string, (args: string[]) => Promise<void>> = {
  step: stepMain,
  capture: captureMain,
  cold: coldStartMain,
  'trace-write': traceWriteMain,
  'trace-read': traceReadMain,
  panel: panelMain,
  summarize: summarizeProbeMain,
  conv: convMain,
  lesson12: lessonMain,
};

/** Runs one benchmark in a child process; its progress goes to our stderr, its result is parsed. */
function child(name: string, args: string[], timeoutMs: number, nodeArgs: string[] = []): Promise<{ result?: Record<string, unknown>; error?: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [...nodeArgs, '--enable-source-maps', __filename, name, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-4000);
      process.stderr.write(d);
    });
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('exit', (code, signal) => {
      clearTimeout(timer);
      const line = out.split('\n').reverse().find((l) => l.startsWith(RESULT_PREFIX));
      if (line) {
        resolve({ result: JSON.parse(line.slice(RESULT_PREFIX.length)) as Record<string, unknown> });
        return;
      }
      const why = signal === 'SIGKILL' ? `timed out after ${timeoutMs / 1000} s` : `exited ${signal ?? code}`;
      const last = err.trim().split('\n').filter((l) => !/^\s+at /.test(l)).slice(-2).join(' ').slice(0, 300);
      resolve({ error: `${name} ${why}: ${last}` });
    });
  });
}

async function all(quick: boolean): Promise<void> {
  const started = new Date();
  const q = quick ? ['--quick'] : [];
  const git = (...a: string[]) => spawnSync('git', a, { cwd: ROOT, encoding: 'utf8' }).stdout?.trim() ?? '';
  const commit = process.env.BENCH_COMMIT ?? git('rev-parse', 'HEAD');
  const dirty = process.env.BENCH_COMMIT ? '' : git('status', '--porcelain', '--', 'src');
  const engine = { commit: commit || null, uncommittedSrcChanges: dirty ? dirty.split('\n').length : 0 };
  const collected: Collected = {
    engine, startedAt: started.toISOString(), quick, host: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? '', node: process.version, loadAvg: os.loadavg() } };

  log('== 1, 2. training step (interleaved rounds) ==');
  collected.step = await child('step', q, 30 * 60_000);

  collected.summarize = await child('summarize', [], 5 * 60_000);

  log('== 6. convolutional nets (interleaved rounds) ==');
  collected.conv = await child('conv', q, 30 * 60_000);

  log('== 3. cold start ==');
  collected.cold = await child('cold', q, 10 * 60_000);

  const steps = quick ? 10_000 : TRACE_STEPS;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gl-trace100k-'));
  try {
    log(`== 4. trace scale (${steps.toLocaleString('en-US')} steps) ==`);
    collected.traceWrite = await child('trace-write', [dir, String(steps)], 30 * 60_000);
    if (collected.traceWrite.result) {
      collected.traceRead = await child('trace-read', [dir], 10 * 60_000, ['--expose-gc']);
      log('== 5. panel ==');
      collected.panel = await child('panel', [dir], 20 * 60_000);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  log('== 7. lesson 12 end to end ==');
  collected.lesson12 = await child('lesson12', [], 30 * 60_000);
  collected.finishedAt = new Date().toISOString();
  const md = writeReport(collected, path.join(ROOT, 'bench'));
  process.stdout.write(`\n${md}\n`);
}

/** Renders results.md again from results.json and NOTES.md (after editing the notes, without measuring again). */
function rerender(): void {
  const json = JSON.parse(fs.readFileSync(path.join(ROOT, 'bench/results.json'), 'utf8')) as Record<string, unknown> & { details: Record<string, Record<string, unknown> | null> };
  const d = json.details;
  const outcome = (r: Record<string, unknown> | null) => (r ? { result: r } : undefined);
  const collected: Collected = {
    engine: json.engine as Collected['engine'],
    startedAt: String(json.startedAt ?? json.generatedAt),
    finishedAt: String(json.generatedAt),
    quick: Boolean(json.quick),
    host: json.host as Collected['host'],
    step: outcome(d.step),
    summarize: outcome(d.summarize),
    conv: outcome(d.conv ?? null),
    cold: outcome(d.coldStart),
    traceWrite: outcome(d.traceWrite),
    traceRead: outcome(d.traceRead),
    panel: outcome(d.panel),
    lesson12: outcome(d.lesson12 ?? null),
  };
  writeReport(collected, path.join(ROOT, 'bench'));
}

async function main(): Promise<void> {
  const [name, ...args] = process.argv.slice(2);
  if (name === 'report') {
    rerender();
    return;
  }
  if (name && COMMANDS[name]) {
    await COMMANDS[name](args);
    // tfjs-wasm and Chromium keep handles; the result is out, so leave now.
    process.exit(0);
  }
  await all(process.argv.includes('--quick'));
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
