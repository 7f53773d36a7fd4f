// Lesson 12 end to end (issue 13): what a learner waits for. The lesson file as it ships
// (samples/12-train-the-mlp/model.ts: its images, steps, batch size, optimizer and evalEvery),
// each way timed from spawn to exit of its own process:
//   traced     `node dist/cli.js trace <lesson> --out <tmp> --backend wasm`: the CLI, the runner and
//              its full-capture pipeline, the type check beside it, the trace on disk;
//   untraced   the same file's model, data (src/api/data.ts), loss and optimizer under stock tfjs on
//              the same backend: `model.trainOnBatch` on per-epoch shuffled full batches, the test
//              split evaluated on the steps the runner evaluates (every evalEvery, and the last);
//   tracerOff  the same, stepped by the runner's SequentialTracer with capture off (the runner has
//              no capture-off switch, so this runs in this bundle, as bench/src/capture.ts does);
//   torch      the same MLP, Adam, batches and evaluations in PyTorch (bench/torch_peer.py `lesson`),
//              reading the same IDX files, if Debian's python3-torch is importable.
//   node out/bench/bin/main.js lesson12 [--record]   (--record: into bench/results.json, then `report`)
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Split, TrainingSpec } from '../../src/api/index';
import { resolveFashionMnistDir } from '../../src/api/data';
import { selectBackend } from '../../src/runner/backend';
import { seedMathRandom } from '../../src/runner/seededRandom';
import { LayerLocations } from '../../src/runner/layerLocations';
import { batchAccuracy, resolveLoss } from '../../src/runner/tracer/losses';
import { SequentialTracer } from '../../src/runner/tracer/sequentialTracer';
import { TraceReader } from '../../src/trace/traceReader';
import { RESULT_PREFIX, ROOT, emit, log, round } from './common';
import type { Outcome } from './report';
import { drain } from './step';
import { TORCH_PYTHON } from './torchPeer';

export const LESSON12_FILE = 'samples/12-train-the-mlp/model.ts';
const BACKEND = 'wasm';
const EVAL_CHUNK = 512;
const TIMEOUT_MS = 15 * 60_000;

interface Lesson {
  trainImages: number;
  testImages: number;
  steps: number;
  batchSize: number;
  evalEvery: number;
  seed: number;
  optimizer: string;
  /** The optimizer's own settings (learningRate, beta1, beta2, epsilon for Adam), passed to PyTorch. */
  optimizerConfig: Record<string, unknown>;
}

interface InProcessResult {
  mode: string;
  backend: string;
  lesson: Lesson;
  /** From the first step to the last evaluation, inside the process (no start-up, no data loading). */
  trainMs: number;
  finalTestAccuracy: number;
  finalLoss: number;
}

interface Timed {
  wallMs: number;
  stdout: string;
  stderr: string;
  code: number | null;
}

/** Spawns a process and times it from spawn to exit; killed if it outlives the timeout. */
function timedRun(command: string, args: string[], env: NodeJS.ProcessEnv, stdin?: string): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const p = spawn(command, args, { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8000)));
    const timer = setTimeout(() => p.kill('SIGKILL'), TIMEOUT_MS);
    p.on('error', reject);
    p.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ wallMs: performance.now() - t0, stdout, stderr, code });
    });
    p.stdin.end(stdin ?? '');
  });
}

function resultLine(t: Timed, what: string): Record<string, unknown> {
  const line = t.stdout.split('\n').reverse().find((l) => l.startsWith(RESULT_PREFIX));
  if (!line) throw new Error(`${what} exited ${t.code} without a result: ${t.stderr.trim().split('\n').slice(-3).join(' ')}`);
  return JSON.parse(line.slice(RESULT_PREFIX.length)) as Record<string, unknown>;
}

/** The lesson file, loaded the way the runner loads it: Math.random seeded first (weights, shuffles). */
async function loadLesson(): Promise<{ spec: TrainingSpec; model: tf.LayersModel; train: Split; test: Split; lesson: Lesson }> {
  seedMathRandom(1);
  const { default: spec } = await import('../../samples/12-train-the-mlp/model');
  const { model, data } = spec;
  if (!(model instanceof tf.LayersModel)) throw new Error(`${LESSON12_FILE}: expected a tf.LayersModel`);
  if (!('train' in data) || !data.test) throw new Error(`${LESSON12_FILE}: expected in-memory train and test splits`);
  const steps = spec.steps ?? 100;
  const lesson: Lesson = {
    trainImages: (data.train.xs as tf.Tensor).shape[0],
    testImages: (data.test.xs as tf.Tensor).shape[0],
    steps,
    batchSize: spec.batchSize ?? 32,
    evalEvery: spec.evalEvery ?? Math.max(1, Math.round(steps / 10)),
    seed: spec.seed ?? 0,
    optimizer: spec.optimizer.getClassName(),
    optimizerConfig: spec.optimizer.getConfig() as Record<string, unknown>,
  };
  if (lesson.seed !== 1) log(`lesson12: the lesson's seed is ${lesson.seed}; the stock run seeds Math.random with 1`);
  // Lesson 12's splits are single tensors (one input, one output).
  return { spec, model, train: data.train as Split, test: data.test as Split, lesson };
}

/** Per-epoch shuffled full batches, as the runner batches in-memory splits (the partial batch dropped). */
function batchAt(train: Split, batchSize: number): (step: number) => Split {
  const n = train.xs.shape[0];
  const perEpoch = Math.floor(n / batchSize);
  let order = tf.util.createShuffledIndices(n);
  let epoch = 0;
  return (step) => {
    const e = Math.floor(step / perEpoch);
    for (; epoch < e; epoch++) order = tf.util.createShuffledIndices(n);
    const start = (step % perEpoch) * batchSize;
    return tf.tidy(() => {
      const idx = tf.tensor1d(Int32Array.from(order.subarray(start, start + batchSize)), 'int32');
      return { xs: tf.gather(train.xs, idx), ys: tf.gather(train.ys, idx) };
    });
  };
}

function testAccuracy(predict: (xs: tf.Tensor) => tf.Tensor, lossName: string, test: Split): number {
  const n = test.xs.shape[0];
  let correct = 0;
  for (let start = 0; start < n; start += EVAL_CHUNK) {
    const size = Math.min(EVAL_CHUNK, n - start);
    tf.tidy(() => {
      const acc = batchAccuracy(lossName, tf.slice(test.ys, start, size), predict(tf.slice(test.xs, start, size)));
      if (!acc) throw new Error(`${LESSON12_FILE}: its loss '${lossName}' has no accuracy`);
      correct += acc.dataSync()[0] * size;
    });
  }
  return correct / n;
}

/** One child process: the lesson under stock tfjs (`stock`) or the tracer with capture off (`tracer-off`). */
export async function lessonInProcessMain(args: string[]): Promise<void> {
  const mode = args[0] === 'tracer-off' ? 'tracer-off' : 'stock';
  const backend = await selectBackend(BACKEND);
  const { spec, model, train, test, lesson } = await loadLesson();
  if (typeof spec.loss !== 'string') throw new Error(`${LESSON12_FILE}: expected a named loss`);
  const lossName = spec.loss;
  const next = batchAt(train, lesson.batchSize);
  let step: (b: Split) => Promise<number>;
  let predict: (xs: tf.Tensor) => tf.Tensor;
  if (mode === 'stock') {
    model.compile({ optimizer: spec.optimizer, loss: lossName, metrics: ['accuracy'] });
    step = async (b) => {
      const out = await model.trainOnBatch(b.xs, b.ys);
      return Array.isArray(out) ? out[0] : out;
    };
    predict = (xs) => model.predict(xs) as tf.Tensor;
  } else {
    const tracer = new SequentialTracer(model, new LayerLocations(() => false), resolveLoss(lossName), spec.optimizer);
    step = async (b) => {
      const outcome = drain(tracer, b.xs, b.ys, false);
      outcome.scope.dispose();
      return outcome.loss;
    };
    // The tracer evaluates with the model's own predict (inference mode), as here.
    predict = (xs) => model.predict(xs) as tf.Tensor;
  }
  let finalTestAccuracy = NaN;
  let finalLoss = NaN;
  const t0 = performance.now();
  for (let s = 0; s < lesson.steps; s++) {
    const b = next(s);
    finalLoss = await step(b);
    tf.dispose([b.xs, b.ys]);
    if (s % lesson.evalEvery === 0 || s === lesson.steps - 1) finalTestAccuracy = testAccuracy(predict, lossName, test);
  }
  const result: InProcessResult = { mode, backend: backend.name, lesson, trainMs: round(performance.now() - t0, 1), finalTestAccuracy, finalLoss };
  emit(result);
}

/** The traced run through the CLI; its accuracy is read back from the trace it wrote. */
async function tracedRun(outDir: string): Promise<{ wallMs: number; finalTestAccuracy: number | null; steps: number; batchSize: number; backend: string; traceBytes: number }> {
  const t = await timedRun(process.execPath, [path.join(ROOT, 'dist/cli.js'), 'trace', LESSON12_FILE, '--out', outDir, '--backend', BACKEND], process.env);
  if (t.code !== 0) throw new Error(`gradient-lens trace exited ${t.code}: ${t.stderr.trim().split('\n').slice(-3).join(' ')}`);
  const reader = TraceReader.open(outDir);
  try {
    const entries = reader.index;
    const lastEval = [...entries].reverse().find((e) => e.testAccuracy !== null);
    const traceBytes = fs.readdirSync(outDir).reduce((sum, f) => sum + fs.statSync(path.join(outDir, f)).size, 0);
    return { wallMs: t.wallMs, finalTestAccuracy: lastEval?.testAccuracy ?? null, steps: reader.stepCount, batchSize: reader.meta.config.batchSize, backend: reader.meta.backend.name, traceBytes };
  } finally {
    reader.close();
  }
}

async function torchRun(lesson: Lesson): Promise<{ wallMs: number; result: Record<string, unknown> } | { why: string }> {
  if (lesson.optimizer !== 'Adam') return { why: `the PyTorch peer runs Adam; the lesson uses ${lesson.optimizer}` };
  if (!fs.existsSync(TORCH_PYTHON)) return { why: `${TORCH_PYTHON} not found (Debian python3 with python3-torch is needed)` };
  const request = { cmd: 'lesson', dir: resolveFashionMnistDir({ trainCount: lesson.trainImages, testCount: lesson.testImages }), trainCount: lesson.trainImages, testCount: lesson.testImages, batch: lesson.batchSize, steps: lesson.steps, evalEvery: lesson.evalEvery, adam: lesson.optimizerConfig, seed: lesson.seed };
  const env = { ...process.env, OMP_WAIT_POLICY: 'PASSIVE', OMP_NUM_THREADS: '2', BENCH_TORCH_THREADS: '2' };
  const t = await timedRun(TORCH_PYTHON, [path.join(ROOT, 'bench/torch_peer.py')], env, [{ cmd: 'info' }, request, { cmd: 'quit' }].map((r) => `${JSON.stringify(r)}\n`).join(''));
  const [info, reply] = t.stdout.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, unknown>);
  const error = info?.error ?? reply?.error ?? (reply ? undefined : `no reply (exit ${t.code})`);
  if (typeof error === 'string') return { why: error.includes('import torch') ? `python3-torch is not installed (${error})` : error };
  return { wallMs: t.wallMs, result: { ...reply, torch: info.torch, threads: info.threads, blas: info.blas } };
}

export async function lessonMain(args: string[]): Promise<void> {
  const child = path.join(ROOT, 'out/bench/bin/lessonChild.js');
  const loadAvgStart = os.loadavg();
  log(`lesson12: ${LESSON12_FILE}, backend ${BACKEND}, load average ${loadAvgStart.map((x) => x.toFixed(2)).join(' ')}`);

  const stockTimed = await timedRun(process.execPath, ['--enable-source-maps', child, 'stock'], process.env);
  const stock = resultLine(stockTimed, 'the stock tfjs run') as unknown as InProcessResult;
  const { lesson } = stock;
  log(`lesson12: untraced (stock tfjs trainOnBatch): ${(stockTimed.wallMs / 1000).toFixed(2)} s wall, ${(stock.trainMs / 1000).toFixed(2)} s training; test accuracy ${(stock.finalTestAccuracy * 100).toFixed(1)} %`);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gl-lesson12-'));
  let traced: Awaited<ReturnType<typeof tracedRun>>;
  try {
    traced = await tracedRun(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  if (traced.steps !== lesson.steps || traced.batchSize !== lesson.batchSize) throw new Error(`the traced run took ${traced.steps} steps of ${traced.batchSize}, the stock run ${lesson.steps} of ${lesson.batchSize}`);
  log(`lesson12: traced (CLI, full capture): ${(traced.wallMs / 1000).toFixed(2)} s wall; test accuracy ${((traced.finalTestAccuracy ?? NaN) * 100).toFixed(1)} %`);

  const offTimed = await timedRun(process.execPath, ['--enable-source-maps', child, 'tracer-off'], process.env);
  const off = resultLine(offTimed, 'the tracer run with capture off') as unknown as InProcessResult;
  log(`lesson12: tracer, capture off: ${(offTimed.wallMs / 1000).toFixed(2)} s wall, ${(off.trainMs / 1000).toFixed(2)} s training; test accuracy ${(off.finalTestAccuracy * 100).toFixed(1)} %`);

  const torch = await torchRun(lesson);
  if ('why' in torch) log(`lesson12: no PyTorch figure: ${torch.why}`);
  else log(`lesson12: PyTorch: ${(torch.wallMs / 1000).toFixed(2)} s wall, ${(Number(torch.result.trainMs) / 1000).toFixed(2)} s training; test accuracy ${(Number(torch.result.finalTestAccuracy) * 100).toFixed(1)} %`);

  const torchWallMs = 'why' in torch ? null : round(torch.wallMs, 0);
  const ratio = (a: number, b: number | null) => (b ? round(a / b, 2) : null);
  const result = {
    file: LESSON12_FILE,
    backend: traced.backend,
    ...lesson,
    tracedWallMs: round(traced.wallMs, 0),
    untracedWallMs: round(stockTimed.wallMs, 0),
    tracerNoCaptureWallMs: round(offTimed.wallMs, 0),
    torchWallMs,
    torchWhyNull: 'why' in torch ? torch.why : null,
    torchInfo: 'why' in torch ? null : { torch: torch.result.torch, threads: torch.result.threads, blas: torch.result.blas },
    ratios: {
      tracedOverUntraced: ratio(traced.wallMs, stockTimed.wallMs),
      tracedOverNoCapture: ratio(traced.wallMs, offTimed.wallMs),
      tracedOverTorch: ratio(traced.wallMs, torchWallMs),
      untracedOverTorch: ratio(stockTimed.wallMs, torchWallMs),
    },
    trainingMsInProcess: { untraced: stock.trainMs, tracerNoCapture: off.trainMs, torch: 'why' in torch ? null : round(Number(torch.result.trainMs), 1) },
    accuracies: {
      traced: traced.finalTestAccuracy === null ? null : round(traced.finalTestAccuracy, 4),
      untraced: round(stock.finalTestAccuracy, 4),
      tracerNoCapture: round(off.finalTestAccuracy, 4),
      torch: 'why' in torch ? null : round(Number(torch.result.finalTestAccuracy), 4),
    },
    traceBytes: traced.traceBytes,
    loadAvgStart: loadAvgStart.map((x) => round(x, 2)),
    loadAvgEnd: os.loadavg().map((x) => round(x, 2)),
  };
  if (args.includes('--record')) recordResult(result);
  emit(result);
}

/** A single run's result into bench/results.json (`lesson12` and `details.lesson12`); `report` then renders it. */
function recordResult(result: Record<string, unknown>): void {
  const file = path.join(ROOT, 'bench/results.json');
  const json = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown> & { details: Record<string, unknown> };
  json.lesson12 = lesson12Figures({ result });
  json.details.lesson12 = result;
  fs.writeFileSync(file, JSON.stringify(json, null, 2) + '\n');
}

/** The `lesson12` key of results.json. */
export function lesson12Figures(o: Outcome | undefined): Record<string, unknown> {
  const r = o?.result;
  if (!r) return { whyNull: o?.error ?? 'not run' };
  const pick = ['trainImages', 'testImages', 'steps', 'batchSize', 'backend', 'tracedWallMs', 'untracedWallMs', 'tracerNoCaptureWallMs', 'torchWallMs', 'torchWhyNull', 'torchInfo', 'ratios', 'accuracies', 'loadAvgStart'];
  return Object.fromEntries(pick.map((k) => [k, r[k] ?? null]));
}

/** The results.md section. */
export function lesson12Section(o: Outcome | undefined): string[] {
  const L = ['## Lesson 12 end to end: what a learner waits for', ''];
  const r = o?.result;
  if (!r) return [...L, `Not measured: ${o?.error ?? 'not run'}`, ''];
  const n = (v: unknown) => (typeof v === 'number' ? v : null);
  const s = (ms: unknown) => (n(ms) === null ? '—' : `${(n(ms)! / 1000).toFixed(2)} s`);
  const pct = (v: unknown) => (n(v) === null ? '—' : `${(n(v)! * 100).toFixed(1)} %`);
  const x = (v: unknown) => (n(v) === null ? '—' : `${n(v)}×`);
  const ratios = r.ratios as Record<string, unknown>;
  const acc = r.accuracies as Record<string, unknown>;
  const inProc = r.trainingMsInProcess as Record<string, unknown>;
  const load = (r.loadAvgStart as number[]).join(' / ');
  L.push(`\`${String(r.file)}\` as it ships: ${Number(r.trainImages).toLocaleString('en-US')} training images, ${Number(r.testImages).toLocaleString('en-US')} test images, ${Number(r.steps)} steps of batch ${Number(r.batchSize)}, ${String(r.optimizer)}, the test split scored every ${Number(r.evalEvery)} steps; backend ${String(r.backend)}. ` +
    `Each run is one process (or the CLI and its runner) timed from spawn to exit, once each, in this order: untraced, traced, tracer without capture, PyTorch; load average ${load} at the start. ` +
    `Untraced is stock tfjs (\`model.trainOnBatch\` on the lesson's own model, data and optimizer, Math.random seeded as the runner seeds it); traced is \`node dist/cli.js trace ${String(r.file)} --backend wasm\` (runner, full-capture pipeline, the type check beside it, a ${(Number(r.traceBytes) / 1e6).toFixed(1)} MB trace); "tracer, capture off" is the runner's SequentialTracer stepping without capture in a plain process (the CLI has no capture-off switch).`);
  L.push('');
  L.push('| run | wall, spawn → exit | training loop alone | final test accuracy |');
  L.push('|---|---:|---:|---:|');
  L.push(`| traced (CLI, full capture) | ${s(r.tracedWallMs)} | — | ${pct(acc.traced)} |`);
  L.push(`| untraced (stock tfjs trainOnBatch) | ${s(r.untracedWallMs)} | ${s(inProc.untraced)} | ${pct(acc.untraced)} |`);
  L.push(`| tracer, capture off | ${s(r.tracerNoCaptureWallMs)} | ${s(inProc.tracerNoCapture)} | ${pct(acc.tracerNoCapture)} |`);
  const ti = r.torchInfo as { torch: string; threads: number; blas: string[] } | null;
  const torchLabel = ti ? `PyTorch ${ti.torch} (${ti.threads} threads, BLAS ${ti.blas.map((b) => `${path.basename(path.dirname(b))}/${path.basename(b)}`).join(', ') || 'unknown'})` : 'PyTorch';
  // Debian's reference BLAS (…/blas/libblas.so.3) is a plain Fortran loop nest, far from OpenBLAS.
  const referenceBlas = ti ? ti.blas.some((b) => /\/blas\/libblas\.so/.test(b)) && !ti.blas.some((b) => /openblas/.test(b)) : false;
  L.push(`| ${torchLabel}, same MLP, Adam, batches | ${r.torchWallMs === null ? `— (${String(r.torchWhyNull)})` : s(r.torchWallMs)} | ${s(inProc.torch)} | ${pct(acc.torch)} |`);
  L.push('');
  if (referenceBlas) L.push(`PyTorch ran on Debian's reference BLAS (no OpenBLAS installed: \`apt-get install libopenblas0-pthread\` makes it the libblas.so.3 alternative), so its figure is not the "PyTorch+OpenBLAS" peer of the step table.`, '');
  L.push(`Traced ÷ untraced: **${x(ratios.tracedOverUntraced)}**; traced ÷ capture off: ${x(ratios.tracedOverNoCapture)}; traced ÷ PyTorch: ${x(ratios.tracedOverTorch)}; untraced ÷ PyTorch: ${x(ratios.untracedOverTorch)}.`);
  L.push('');
  return L;
}
