// Benchmark 1 and 2: one training step of the seed MLP at batch 32/64/128, interleaved rounds of
// stock tfjs (trainOnBatch, optimizer.minimize), the Gradient Lens traced step with full capture
// inline (generator + copy out + buildStepRecord + encodeRecord on one thread), through the
// runner's pipeline (the copy on this thread, the rest in the capture worker), and without
// capture, and PyTorch (a python server timing its own steps between our rounds).
// Also this machine's peak (a large plain matMul on the same backend, and torch's).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadFashionMnist } from '../../src/api/data';
import { selectBackend, type BackendPreference } from '../../src/runner/backend';
import { wasmThreadsFromEnv } from '../../src/runner/wasmThreads';
import { CapturePipeline } from '../../src/runner/capture/capturePipeline';
import { DEFAULT_CAPTURE, isKeyframe } from '../../src/runner/capture/recordBuilder';
import type { RunMeta } from '../../src/shared/traceTypes';
import { LayerLocations } from '../../src/runner/layerLocations';
import { resolveLoss } from '../../src/runner/tracer/losses';
import { SequentialTracer } from '../../src/runner/tracer/sequentialTracer';
import { StepScope, type StepGenerator, type StepOutcome } from '../../src/runner/tracer/stepScope';
import { encodeRecord } from '../../src/trace/recordCodec';
import { emit, log, mean, median, quantile, round, seedModel, stepFlops, timeReps } from './common';
import { CAPTURE_API, buildRecord, takenOf } from './engine';
import { profileStep } from './profile';
import { TorchPeer } from './torchPeer';

export const BATCHES = [32, 64, 128] as const;
const TRAIN_EXAMPLES = 2048;

export type VariantName = 'stockTrainOnBatch' | 'stockMinimize' | 'tracedFull' | 'tracedPipeline' | 'tracedNoCapture' | 'torchOpenblas';
const VARIANT_NAMES: VariantName[] = ['stockTrainOnBatch', 'stockMinimize', 'tracedFull', 'tracedPipeline', 'tracedNoCapture', 'torchOpenblas'];

export interface Batch {
  xs: tf.Tensor2D;
  ys: tf.Tensor2D;
}

export interface Variant {
  name: VariantName;
  /** Times `count` steps, returns each step's ms. */
  run(count: number): Promise<number[]>;
  leaked?: () => number;
}

/** Runs a traced step to completion, as the runner's session does: a StepScope per step that borrows the batch. */
export function drain(tracer: SequentialTracer, xs: tf.Tensor, ys: tf.Tensor, capturing: boolean): StepOutcome {
  const gen = startStep(tracer, xs, ys, capturing);
  for (;;) {
    const next = gen.next();
    if (next.done) return next.value;
  }
}

/** tracer.step with a scope that borrows the batch (the caller keeps owning xs and ys). */
export function startStep(tracer: SequentialTracer, xs: tf.Tensor, ys: tf.Tensor, capturing: boolean): StepGenerator {
  return tracer.step(xs, ys, new StepScope(capturing, [xs, ys]));
}

export function newTracer(model: tf.LayersModel, lr = 0.1): SequentialTracer {
  return new SequentialTracer(model, new LayerLocations(() => false), resolveLoss('categoricalCrossentropy'), tf.train.sgd(lr));
}

/**
 * The traced step with its capture inline, all on this thread: the step, the copy out, the
 * record and its encoding (no worker). `keyframes`: on the policy's grid, else ordinary steps only.
 */
export function inlineVariant(batches: Batch[], tracer: SequentialTracer = newTracer(seedModel()), keyframes = false): Variant {
  return tfVariant('tracedFull', batches, (b, k) => {
    const outcome = drain(tracer, b.xs, b.ys, true);
    const { record } = buildRecord(k, keyframes && isKeyframe(k, Number.POSITIVE_INFINITY, DEFAULT_CAPTURE), outcome);
    outcome.scope.dispose();
    encodeRecord(record);
  });
}

function tfVariant(name: VariantName, batches: Batch[], step: (b: Batch, k: number) => Promise<void> | void): Variant {
  let k = 0;
  let tensorsAfterWarm = -1;
  return {
    name,
    async run(count) {
      const out: number[] = [];
      for (let i = 0; i < count; i++, k++) {
        const b = batches[k % batches.length];
        const t0 = performance.now();
        await step(b, k);
        out.push(performance.now() - t0);
      }
      return out;
    },
    leaked: () => {
      const n = tf.memory().numTensors;
      const d = tensorsAfterWarm < 0 ? 0 : n - tensorsAfterWarm;
      tensorsAfterWarm = n;
      return d;
    },
  };
}

/** A trace's meta for the capture pipeline's writer (the benchmark's own runs). */
export function benchMeta(tracer: SequentialTracer, batch: number, dir: string): RunMeta {
  return {
    formatVersion: 1,
    runId: path.basename(dir),
    file: 'bench',
    createdAt: new Date().toISOString(),
    backend: { name: tf.getBackend() as RunMeta['backend']['name'], reason: 'bench' },
    model: tracer.summary,
    config: { batchSize: batch, steps: 1_000_000, seed: 1, loss: 'categoricalCrossentropy', optimizer: 'SGD', learningRate: 0.1, evalEvery: 0, capture: DEFAULT_CAPTURE },
    tfjsVersion: tf.version.tfjs,
  };
}

/**
 * The runner's own loop (session.ts): the step and the copy of its captured tensors on the
 * training thread, then the capture worker (summaries, record, health, encoding, writing)
 * overlapping the next step, one step deep.
 * Each call times `count` steps and waits for the last to be written, so the figure is the
 * steady-state time per step including the worker's share that does not overlap.
 */
export function pipelineVariant(batches: { xs: tf.Tensor; ys: tf.Tensor }[], batch: number, dir: string, model: tf.LayersModel = seedModel(), lr = 0.1): { variant: Variant; close(): Promise<void>; workerBusyMs(): number; trainingBusyMs(): number; submitMs(): number } {
  const tracer = newTracer(model, lr);
  const pipeline = new CapturePipeline(dir, benchMeta(tracer, batch, dir));
  let k = 0;
  let training = 0;
  let submitting = 0;
  return {
    variant: {
      name: 'tracedPipeline',
      async run(count) {
        const written: Promise<unknown>[] = [];
        const t0 = performance.now();
        for (let i = 0; i < count; i++, k++) {
          if (i >= 2) await written[i - 2];
          const b = batches[k % batches.length];
          const tStep = performance.now();
          const outcome = drain(tracer, b.xs, b.ys, true);
          const capture = takenOf(k, isKeyframe(k, Number.POSITIVE_INFINITY, DEFAULT_CAPTURE), outcome, batch, pipeline);
          outcome.scope.dispose();
          const tSubmit = performance.now();
          training += tSubmit - tStep;
          written.push((await pipeline.submit(capture, { stepMs: 0 })).written);
          submitting += performance.now() - tSubmit;
          await new Promise((r) => setImmediate(r));
        }
        await Promise.all(written);
        return new Array<number>(count).fill((performance.now() - t0) / count);
      },
    },
    close: () => pipeline.close({ state: 'finished' }),
    workerBusyMs: () => pipeline.workerBusyMs,
    trainingBusyMs: () => training,
    submitMs: () => submitting,
  };
}

/** The traced step with capture off, on its own tracer. */
export function noCaptureVariant(batches: { xs: tf.Tensor; ys: tf.Tensor }[], model: tf.LayersModel = seedModel(), lr = 0.1): Variant {
  const tracer = newTracer(model, lr);
  let k = 0;
  return {
    name: 'tracedNoCapture',
    async run(count) {
      const out: number[] = [];
      for (let i = 0; i < count; i++, k++) {
        const b = batches[k % batches.length];
        const t0 = performance.now();
        drain(tracer, b.xs, b.ys, false).scope.dispose();
        out.push(performance.now() - t0);
      }
      return out;
    },
  };
}

function variantsFor(batch: number, batches: Batch[], torch: TorchPeer | undefined, pipelineDir: string, closers: (() => Promise<void>)[]): Variant[] {
  const loss = 'categoricalCrossentropy';
  const trainModel = seedModel();
  trainModel.compile({ optimizer: tf.train.sgd(0.1), loss });
  const minModel = seedModel();
  const minOpt = tf.train.sgd(0.1);
  const fullTracer = newTracer(seedModel());
  const offTracer = newTracer(seedModel());
  const vs: Variant[] = [
    tfVariant('stockTrainOnBatch', batches, async (b) => {
      await trainModel.trainOnBatch(b.xs, b.ys);
    }),
    tfVariant('stockMinimize', batches, (b) => {
      const cost = minOpt.minimize(() => tf.mean(tf.metrics.categoricalCrossentropy(b.ys, minModel.apply(b.xs, { training: true }) as tf.Tensor)) as tf.Scalar, true)!;
      cost.dataSync();
      cost.dispose();
    }),
    inlineVariant(batches, fullTracer, true),
    (() => {
      const p = pipelineVariant(batches, batch, pipelineDir);
      closers.push(p.close);
      return p.variant;
    })(),
    tfVariant('tracedNoCapture', batches, (b) => {
      const outcome = drain(offTracer, b.xs, b.ys, false);
      outcome.scope.dispose();
    }),
  ];
  if (torch) {
    vs.push({
      name: 'torchOpenblas',
      async run(count) {
        const r = await torch.request({ cmd: 'steps', batch, count });
        if (r.error) throw new Error(String(r.error));
        return r.ms as number[];
      },
    });
  }
  return vs;
}

/** A large plain matMul on the current backend: the fastest this backend multiplies here. */
function tfPeak(): { gflops: number; shape: string; all: Record<string, number> } {
  const all: Record<string, number> = {};
  let best = { gflops: 0, shape: '' };
  for (const [m, k, n] of [[256, 256, 256], [512, 512, 512], [1024, 1024, 1024], [512, 784, 256], [2048, 784, 256]]) {
    const a = tf.randomUniform([m, k]);
    const b = tf.randomUniform([k, n]);
    const times = timeReps(() => tf.matMul(a, b).dispose(), 7, 2);
    tf.dispose([a, b]);
    const gflops = (2 * m * k * n) / (Math.min(...times) / 1000) / 1e9;
    const shape = `${m}×${k}·${k}×${n}`;
    all[shape] = round(gflops, 1);
    if (gflops > best.gflops) best = { gflops, shape };
  }
  return { ...best, all };
}

export async function stepBench(opts: { rounds: number; perRound: number; warm: number; backend: BackendPreference }): Promise<unknown> {
  const backend = await selectBackend(opts.backend, wasmThreadsFromEnv());
  log(`step: backend ${backend.name} (${backend.reason})`);

  const data = loadFashionMnist({ trainCount: TRAIN_EXAMPLES, testCount: 16 });
  const xsAll = data.train.xs as tf.Tensor2D;
  const ysAll = data.train.ys as tf.Tensor2D;
  tf.dispose([data.test.xs, data.test.ys]);

  // PyTorch gets the very same examples.
  const { peer: torch, info: torchInfo, reason: torchReason } = await TorchPeer.start();
  let torchWhyNull = torchReason;
  let torchPeak: number | null = null;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gl-bench-'));
  try {
    if (torch) {
      const file = path.join(tmp, 'train.f32');
      const joined = tf.tidy(() => tf.concat([xsAll, ysAll], 1));
      fs.writeFileSync(file, Buffer.from((joined.dataSync() as Float32Array).buffer));
      joined.dispose();
      const r = await torch.request({ cmd: 'data', path: file, n: TRAIN_EXAMPLES });
      if (r.error) torchWhyNull = String(r.error);
      const p = await torch.request({ cmd: 'matmul', n: 1024, reps: 7 });
      if (!p.error) torchPeak = p.gflops as number;
      log(`step: torch ${JSON.stringify(torchInfo)}; peak ${torchPeak?.toFixed(1)} GFLOP/s`);
    } else {
      log(`step: no PyTorch peer: ${torchReason}`);
    }

    const peak = tfPeak();
    log(`step: ${backend.name} peak ${peak.gflops.toFixed(1)} GFLOP/s (matMul ${peak.shape}; ${JSON.stringify(peak.all)})`);

    const closers: (() => Promise<void>)[] = [];
    const perBatch = new Map<number, { batches: Batch[]; variants: Variant[]; times: Map<VariantName, number[]>; leaks: Map<VariantName, number> }>();
    for (const batch of BATCHES) {
      const batches: Batch[] = [];
      for (let s = 0; s + batch <= TRAIN_EXAMPLES; s += batch) {
        batches.push({ xs: tf.slice(xsAll, [s, 0], [batch, 784]), ys: tf.slice(ysAll, [s, 0], [batch, 10]) });
      }
      const variants = variantsFor(batch, batches, torchWhyNull ? undefined : torch, fs.mkdtempSync(path.join(tmp, `pipeline-${batch}-`)), closers);
      perBatch.set(batch, { batches, variants, times: new Map(), leaks: new Map() });
    }

    // Warm-up (JIT, XNNPACK operator creation, allocator), then check tensor counts stay flat.
    for (const batch of BATCHES) {
      const b = perBatch.get(batch)!;
      for (const v of b.variants) {
        await v.run(opts.warm);
        v.leaked?.();
      }
    }

    // Interleaved rounds: every round visits every batch size and every variant, in rotated order.
    for (let r = 0; r < opts.rounds; r++) {
      for (const batch of BATCHES) {
        const b = perBatch.get(batch)!;
        const n = b.variants.length;
        for (let j = 0; j < n; j++) {
          const v = b.variants[(j + r) % n];
          try {
            const ms = await v.run(opts.perRound);
            b.times.set(v.name, [...(b.times.get(v.name) ?? []), ...ms]);
            if (v.leaked) b.leaks.set(v.name, (b.leaks.get(v.name) ?? 0) + v.leaked());
          } catch (e) {
            if (v.name === 'torchOpenblas') torchWhyNull = `torch failed: ${(e as Error).message}`;
            else throw e;
          }
        }
      }
      log(`step: round ${r + 1}/${opts.rounds}`);
    }

    const step: Record<string, Record<string, unknown>> = {};
    for (const batch of BATCHES) {
      const b = perBatch.get(batch)!;
      const row: Record<string, unknown> = {};
      const stats: Record<string, unknown> = {};
      for (const name of VARIANT_NAMES) {
        const t = b.times.get(name);
        row[`${name}Ms`] = t && t.length > 0 && !(name === 'torchOpenblas' && torchWhyNull) ? round(median(t)) : null;
        if (t && t.length > 0) stats[name] = { n: t.length, median: round(median(t)), mean: round(mean(t)), p10: round(quantile(t, 0.1)), p90: round(quantile(t, 0.9)), leakedTensors: b.leaks.get(name) ?? 0 };
      }
      row.flops = stepFlops(batch);
      row.stats = stats;
      step[String(batch)] = row;
    }

    // Where the traced step's time goes (batch 64), on the same backend, after the rounds.
    const profile = await profileStep(perBatch.get(64)!.batches, peak.gflops);

    for (const close of closers) await close();
    for (const b of perBatch.values()) for (const x of b.batches) tf.dispose([x.xs, x.ys]);
    return {
      backend: backend.name,
      backendInfo: backend,
      tfjsVersion: tf.version.tfjs,
      node: process.version,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model,
      peakGflops: round(peak.gflops, 1),
      peakSource: `best plain tf.matMul on ${backend.name}: ${peak.shape} (best of 7 runs; shapes tried: ${JSON.stringify(peak.all)})`,
      torchPeakGflops: torchPeak === null ? null : round(torchPeak, 1),
      torchInfo: torchInfo ?? null,
      torchWhyNull: torchWhyNull ?? null,
      captureApi: CAPTURE_API,
      method: { rounds: opts.rounds, stepsPerRound: opts.perRound, warmupSteps: opts.warm, trainExamples: TRAIN_EXAMPLES, data: data.source },
      step,
      profile,
    };
  } finally {
    torch?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

export async function stepMain(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  const result = await stepBench({
    rounds: quick ? 3 : 20,
    perRound: quick ? 5 : 10,
    warm: quick ? 5 : 20,
    backend: (process.env.GRADIENT_LENS_BACKEND as BackendPreference) || 'auto',
  });
  emit(result);
}
