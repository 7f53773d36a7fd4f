// gradient-lens: summary, trace and show from the terminal, through the same runner and trace
// reader the extension uses.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { RunnerClient, RunnerError } from '../host/runnerClient';
import { defaultRunDir } from '../trace/runFolder';
import { CorruptRecordError } from '../trace/recordCodec';
import { KEYFRAME_DIR } from '../trace/keyframeCodec';
import { TraceOpenError, TraceReader } from '../trace/traceReader';
import type { TypeCheckMode, TypeDiagnostic } from '../shared/protocol';
import { KEYFRAME_PRECISIONS, type KeyframePrecision, type RunError } from '../shared/traceTypes';
import { MAX_WASM_THREADS, type WasmThreads } from '../shared/wasmThreads';
import { formatError, formatFullTensorSteps, formatHealth, formatStepDetail, formatSummary, num } from './format';
import { DIFF_USAGE, diffCommand } from './diffCommand';
import { EXPORT_USAGE, exportCommand } from './exportCommand';

const USAGE = `usage:
  gradient-lens summary FILE                 the model's layers, shapes and parameter counts
  gradient-lens trace FILE [--steps N] [--out DIR [--force]] [--seed S] [--batch-size B] [--backend auto|tensorflow|wasm|cpu] [--threads auto|N] [--no-typecheck] [--strict-types]
                          [--trace-budget MB] [--keyframe-budget MB] [--keyframe-precision exact|float16]
                                             train N steps with full tracing and write the trace
                                             (the file is type-checked alongside: type errors are
                                             warnings, --strict-types makes the first one fail the run;
                                             --force replaces a trace already in DIR; the trace never
                                             exceeds --trace-budget, default 512 MB: keyframes thin out;
                                             --threads: XNNPACK's threads on wasm, auto = half the
                                             logical cores, at most 4)
  gradient-lens show DIR [--step K]          print one recorded step, phase by phase
${DIFF_USAGE}
${EXPORT_USAGE}`;

class UsageError extends Error {}

function fail(message: string, code = 1): never {
  process.stderr.write(`gradient-lens: ${message}\n`);
  process.exit(code);
}

/** Plain decimal digits only: `0x10`, `1e3` and `16.0` are refused, not read as numbers. */
function intOption(value: string | undefined, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max.toLocaleString('en-US')}, got '${value}'`);
  }
  return n;
}

/** Megabytes (2^20 bytes) as bytes, from plain decimal digits like the other integer options. */
function megabytesOption(value: string | undefined, name: string, min: number, max: number): number | undefined {
  const mb = intOption(value, name, min, max);
  return mb === undefined ? undefined : mb * 2 ** 20;
}

function precisionOption(value: string | undefined): KeyframePrecision | undefined {
  if (value === undefined || (KEYFRAME_PRECISIONS as readonly string[]).includes(value)) return value as KeyframePrecision | undefined;
  throw new UsageError(`--keyframe-precision must be one of ${KEYFRAME_PRECISIONS.join(', ')}, got '${value}'`);
}

const BACKENDS = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;

function backendOption(value: string | undefined): string | undefined {
  if (value === undefined || (BACKENDS as readonly string[]).includes(value)) return value;
  throw new UsageError(`--backend must be one of ${BACKENDS.join(', ')}, got '${value}'`);
}

/** --threads: XNNPACK's pool on the wasm backend, `auto` or a thread count (src/runner/wasmThreads.ts). */
function threadsOption(value: string | undefined): WasmThreads | undefined {
  if (value === undefined || value === 'auto') return value;
  return intOption(value, 'threads', 1, MAX_WASM_THREADS);
}

function modelFile(arg: string | undefined): string {
  if (!arg) throw new UsageError('missing FILE');
  const file = path.resolve(arg);
  if (!fs.existsSync(file)) throw new UsageError(`${arg}: no such file`);
  if (!fs.statSync(file).isFile()) throw new UsageError(`${arg}: not a file (a model is one .ts file)`);
  if (!/\.(ts|mts|js|mjs)$/.test(file)) throw new UsageError(`${arg}: expected a TypeScript model file (.ts)`);
  return file;
}

/** The files a trace folder holds; --force removes these and nothing else the folder may hold. */
const TRACE_FILES = /^(meta\.json|steps\.bin|index\.bin|end\.json)(\.\d+\.tmp)?$/;

/** An --out that already holds a trace is refused (its end.json would describe the new run), or cleared with --force. */
function prepareOutDir(outDir: string, force: boolean): void {
  if (!fs.existsSync(path.join(outDir, 'meta.json'))) return;
  if (!force) {
    let what = 'a trace';
    try {
      const end = JSON.parse(fs.readFileSync(path.join(outDir, 'end.json'), 'utf8')) as { state?: unknown; steps?: unknown };
      what = `a trace (${String(end.state)}, ${String(end.steps)} steps)`;
    } catch {
      what = 'a trace (cut short: no end.json)';
    }
    throw new UsageError(`--out ${outDir} already holds ${what}: pass --force to replace it, or choose another folder`);
  }
  for (const name of fs.readdirSync(outDir)) if (TRACE_FILES.test(name)) fs.rmSync(path.join(outDir, name), { force: true });
  // The keyframe files: only the writer's own names, then the folder if that emptied it.
  const keyframes = path.join(outDir, KEYFRAME_DIR);
  if (fs.existsSync(keyframes)) {
    for (const name of fs.readdirSync(keyframes)) if (/^step-\d{10}\.glk(\.tmp)?$/.test(name)) fs.rmSync(path.join(keyframes, name), { force: true });
    if (fs.readdirSync(keyframes).length === 0) fs.rmdirSync(keyframes);
  }
}

function spawnRunner(backend?: string, wasmThreads?: WasmThreads): RunnerClient {
  const runner = RunnerClient.spawn({ backend, wasmThreads, onOutput: (text) => process.stderr.write(text) });
  runner.onMessage((msg) => {
    if (msg.type === 'log') (msg.level === 'info' ? process.stdout : process.stderr).write(`  [model] ${msg.text}\n`);
  });
  runner.onStall((notice) => process.stderr.write(`gradient-lens: ${notice.message} — press Ctrl-C to stop\n`));
  return runner;
}

/** The signal that stopped this run, if one did: the exit code says so (128 + its number). */
let stoppedBy: NodeJS.Signals | undefined;
const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143 } as const;

/** Ctrl-C and SIGTERM stop the runner (killed after a short grace) before the CLI exits. */
function stopOnSignal(runner: RunnerClient): () => void {
  const onSignal = (signal: NodeJS.Signals) => {
    stoppedBy = signal;
    void runner.stop();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}

async function summary(args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({ args, allowPositionals: true, options: { backend: { type: 'string' }, json: { type: 'boolean' } } });
  const file = modelFile(positionals[0]);
  const runner = spawnRunner(backendOption(values.backend));
  const offSignals = stopOnSignal(runner);
  try {
    const reply = await runner.load(file);
    if (values.json) console.log(JSON.stringify(reply.model, null, 2));
    else console.log(`${formatSummary(reply.model)}\nbackend: ${reply.backend.name} (${reply.backend.reason})`);
    return 0;
  } finally {
    offSignals();
    await runner.stop();
  }
}

async function trace(args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      steps: { type: 'string' },
      out: { type: 'string' },
      seed: { type: 'string' },
      'batch-size': { type: 'string' },
      backend: { type: 'string' },
      threads: { type: 'string' },
      quiet: { type: 'boolean' },
      force: { type: 'boolean' },
      'no-typecheck': { type: 'boolean' },
      'strict-types': { type: 'boolean' },
      'trace-budget': { type: 'string' },
      'keyframe-budget': { type: 'string' },
      'keyframe-precision': { type: 'string' },
    },
  });
  const file = modelFile(positionals[0]);
  const capture = {
    traceBudgetBytes: megabytesOption(values['trace-budget'], 'trace-budget', 1, 1_048_576),
    keyframeBudgetBytes: megabytesOption(values['keyframe-budget'], 'keyframe-budget', 0, 65_536),
    keyframePrecision: precisionOption(values['keyframe-precision']),
  };
  const overrides = {
    steps: intOption(values.steps, 'steps', 1, 100_000_000),
    seed: intOption(values.seed, 'seed', 0, 2 ** 32 - 1),
    batchSize: intOption(values['batch-size'], 'batch-size', 1, 65_536),
    // Only what was given: an undefined key would override the file's own defineTraining.
    capture: Object.fromEntries(Object.entries(capture).filter(([, v]) => v !== undefined)),
  };
  const backend = backendOption(values.backend);
  const threads = threadsOption(values.threads);
  const outDir = path.resolve(values.out ?? defaultRunDir(process.cwd(), file));
  prepareOutDir(outDir, values.force ?? false);
  const runner = spawnRunner(backend, threads);
  let failure: RunError | undefined;
  let finalState = '';
  const started = Date.now();
  runner.onMessage((msg) => {
    if (msg.type === 'stepDone' && !values.quiet) {
      const e = msg.entry;
      const acc = e.accuracy !== null ? `  acc ${(e.accuracy * 100).toFixed(1)}%` : '';
      const test = e.testAccuracy !== null ? `  test ${(e.testAccuracy * 100).toFixed(1)}%` : '';
      console.log(`step ${String(e.step).padStart(5)}  loss ${num(e.loss)}${acc}${test}  ${msg.stepMs.toFixed(1)} ms  | ${formatHealth(msg.health, layerNames)}`);
    } else if (msg.type === 'typeDiagnostics') {
      for (const d of msg.diagnostics) process.stderr.write(`${formatTypeWarning(d)}\n`);
    } else if (msg.type === 'failed') {
      failure = msg.error;
    } else if (msg.type === 'state') {
      finalState = msg.state;
    }
  });
  let layerNames: string[] = [];
  const offSignals = stopOnSignal(runner);
  try {
    const hello = await runner.ready;
    const typeCheck: TypeCheckMode = values['no-typecheck'] ? 'off' : values['strict-types'] ? 'error' : 'warn';
    const startedRun = await runner.start({ file, outDir, overrides, typeCheck });
    layerNames = startedRun.meta.model.layers.map((l) => l.name);
    console.log(`tracing ${path.relative(process.cwd(), file) || file}: ${startedRun.meta.model.totalParams.toLocaleString('en-US')} params, ${startedRun.meta.config.steps} steps, batch ${startedRun.meta.config.batchSize}, seed ${startedRun.meta.config.seed}`);
    console.log(`backend: ${hello.backend.name}${(hello.backend.threads ?? 1) > 1 ? `, ${hello.backend.threads} threads` : ''} (${hello.backend.reason})`);
    await runner.exited;
  } catch (e) {
    if (e instanceof RunnerError) failure = e.runError;
    else throw e;
  } finally {
    offSignals();
  }
  if (stoppedBy && !['finished', 'failed'].includes(finalState)) finalState = 'stopped';
  if (fs.existsSync(path.join(outDir, 'meta.json'))) {
    console.log(`trace: ${outDir}  (${finalState || 'ended'}, ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  }
  if (failure && !stoppedBy) {
    process.stderr.write(`${formatError(failure)}\n`);
    return 1;
  }
  if (stoppedBy) return stopped();
  return finalState === 'finished' ? 0 : 1;
}

/** Every line of the compiler's message, located as an editor's problem matcher reads it. */
function formatTypeWarning(d: TypeDiagnostic): string {
  return `${d.file}:${d.line}:${d.column}: warning [type] TS${d.code}: ${d.message}`;
}

function show(args: string[]): number {
  const { positionals, values } = parseArgs({ args, allowPositionals: true, options: { step: { type: 'string' }, json: { type: 'boolean' } } });
  const dir = positionals[0];
  if (!dir) throw new UsageError('missing DIR');
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new UsageError(`${dir}: no such trace folder`);
  const reader = TraceReader.open(dir);
  try {
    if (reader.stepCount === 0) throw new UsageError(`${dir}: the trace holds no complete step`);
    const last = reader.entry(reader.stepCount - 1).step;
    const step = intOption(values.step, 'step', 0, last) ?? last;
    if (reader.positionOf(step) < 0) throw new UsageError(`--step ${step}: the trace has no such step (it has ${reader.stepCount} steps, 0–${last}; see its damage notes)`);
    const record = reader.readStep(step);
    if (values.json) {
      console.log(JSON.stringify(record, (_k, v) => (ArrayBuffer.isView(v) ? Array.from(v as Float32Array) : v)));
      return 0;
    }
    const { meta } = reader;
    console.log(`${meta.model.name}: ${path.basename(meta.file)}, backend ${meta.backend.name}, seed ${meta.config.seed}, ${reader.stepCount} steps recorded`);
    const end = reader.end;
    if (!end) console.log('note: the run did not finish (no end.json): it was cut short or is still running');
    else if (end.error) console.log(`run ${end.state}: ${formatError(end.error)}`);
    console.log(formatFullTensorSteps(reader.fullTensorSteps, meta.config.capture.traceBudgetBytes));
    for (const d of reader.damage) console.log(`damage: ${d}`);
    console.log(formatStepDetail(record, meta.model, meta.classNames));
    return 0;
  } finally {
    reader.close();
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'summary':
      return summary(rest);
    case 'trace':
      return trace(rest);
    case 'show':
      return show(rest);
    case 'diff':
      return diffCommand(rest);
    case 'export':
      return exportCommand(rest);
    case undefined:
    case '-h':
    case '--help':
      console.log(USAGE);
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command '${command}'`);
  }
}

function stopped(): number {
  process.stderr.write(`gradient-lens: stopped (${stoppedBy})\n`);
  return SIGNAL_EXIT[stoppedBy as keyof typeof SIGNAL_EXIT] ?? 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    if (stoppedBy) process.exit(stopped());
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) fail(`${(e as Error).message}\n${USAGE}`, 2);
    if (e instanceof RunnerError) fail(formatError(e.runError));
    if (e instanceof TraceOpenError || e instanceof CorruptRecordError) fail(e.message);
    fail((e as Error).stack ?? String(e));
  },
);
