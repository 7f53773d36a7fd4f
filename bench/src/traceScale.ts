// Benchmark 4: a 100,000-step trace of the seed model. Records are real: the real tracer runs
// 60 steps of the seed model on Fashion-MNIST at batch 64 with the default capture policy
// (summaries every step, the selected sample every step, whole batches and full weights at
// keyframes), and those records are written again under new step numbers (keyframes where the
// policy puts them) so the file has 100,000 steps without training 100,000 steps.
// `write DIR` writes it and measures throughput; `read DIR` (a fresh process, so its memory is
// the reader's alone) opens it and reads random steps.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadFashionMnist } from '../../src/api/data';
import { selectBackend } from '../../src/runner/backend';
import { DEFAULT_CAPTURE, isKeyframe } from '../../src/runner/capture/recordBuilder';
import type { RunMeta, StepRecord } from '../../src/shared/traceTypes';
import { DATA_FILE, INDEX_FILE } from '../../src/trace/recordCodec';
import { TraceReader } from '../../src/trace/traceReader';
import { TraceWriter } from '../../src/trace/traceWriter';
import { emit, log, median, quantile, round, seedModel } from './common';
import { buildRecord } from './engine';
import { drain, newTracer } from './step';

export const TRACE_STEPS = 100_000;
const BATCH = 64;
const REAL_STEPS = 60;

export async function traceWriteMain(args: string[]): Promise<void> {
  const dir = args[0];
  const steps = Number(args[1] ?? TRACE_STEPS);
  const backend = await selectBackend('auto');
  const policy = DEFAULT_CAPTURE;
  const data = loadFashionMnist({ trainCount: BATCH * REAL_STEPS, testCount: 16 });
  const model = seedModel();
  const tracer = newTracer(model);

  // Real records: keyframes where a run of `steps` steps has them (0, 50 among the first 60).
  const ordinary: StepRecord[] = [];
  const keyframes: StepRecord[] = [];
  for (let s = 0; s < REAL_STEPS; s++) {
    const xs = tf.slice(data.train.xs, [s * BATCH, 0], [BATCH, 784]);
    const ys = tf.slice(data.train.ys, [s * BATCH, 0], [BATCH, 10]);
    const t0 = performance.now();
    const outcome = drain(tracer, xs, ys, true);
    const keyframe = isKeyframe(s, steps, policy);
    const { record } = buildRecord(s, keyframe, outcome, policy);
    record.stepMs = performance.now() - t0;
    outcome.scope.dispose();
    tf.dispose([xs, ys]);
    (keyframe ? keyframes : ordinary).push(record);
  }

  const meta: RunMeta = {
    formatVersion: 1,
    runId: path.basename(dir),
    file: 'samples/01-what-is-a-neural-network/model.ts',
    lesson: '01-what-is-a-neural-network',
    createdAt: new Date().toISOString(),
    backend,
    model: tracer.summary,
    config: { batchSize: BATCH, steps, seed: 1, loss: 'categoricalCrossentropy', optimizer: 'SGD', learningRate: 0.1, evalEvery: 0, capture: policy },
    classNames: data.classNames,
    tfjsVersion: tf.version.tfjs,
  };

  log(`trace: writing ${steps.toLocaleString('en-US')} steps to ${dir}`);
  const writer = new TraceWriter(dir, meta);
  let keyframeCount = 0;
  let keyframeBytes = 0;
  let ordinaryBytes = 0;
  let keyframeMs = 0;
  const t0 = performance.now();
  for (let s = 0; s < steps; s++) {
    const keyframe = isKeyframe(s, steps, policy);
    const template = keyframe ? keyframes[keyframeCount % keyframes.length] : ordinary[s % ordinary.length];
    const t1 = keyframe ? performance.now() : 0;
    const bytes = writer.append({ ...template, step: s, keyframe });
    if (keyframe) {
      keyframeCount++;
      keyframeBytes += bytes;
      keyframeMs += performance.now() - t1;
    } else {
      ordinaryBytes += bytes;
    }
    if (s > 0 && s % 20_000 === 0) log(`trace: ${s.toLocaleString('en-US')} steps, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  writer.close({ state: 'finished' });
  const writeMs = performance.now() - t0;
  const fileBytes = fs.statSync(path.join(dir, DATA_FILE)).size + fs.statSync(path.join(dir, INDEX_FILE)).size;
  const ordinaryCount = steps - keyframeCount;
  emit({
    steps,
    backend: backend.name,
    realStepsRun: REAL_STEPS,
    writeSeconds: round(writeMs / 1000, 2),
    writeStepsPerSec: round(steps / (writeMs / 1000), 0),
    bytesPerStep: round(fileBytes / steps, 0),
    fileMB: round(fileBytes / 1e6, 1),
    keyframes: keyframeCount,
    keyframeBytes: round(keyframeBytes / keyframeCount, 0),
    keyframeWriteMs: round(keyframeMs / keyframeCount, 3),
    ordinaryBytes: round(ordinaryBytes / ordinaryCount, 0),
    ordinaryWriteStepsPerSec: round(ordinaryCount / ((writeMs - keyframeMs) / 1000), 0),
    keyframeShareOfBytes: round(keyframeBytes / (keyframeBytes + ordinaryBytes), 3),
  });
}

function memory(): { rss: number; heap: number; external: number } {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed, external: m.external + m.arrayBuffers };
}

export async function traceReadMain(args: string[]): Promise<void> {
  const dir = args[0];
  const before = memory();
  const t0 = performance.now();
  const reader = TraceReader.open(dir);
  const openMs = performance.now() - t0;
  const afterOpen = memory();
  const n = reader.stepCount;
  const every = reader.meta.config.capture.keyframeEvery;

  // Random steps, seeded (xorshift), ordinary and keyframe steps alike, as they come.
  let seed = 0x9e3779b9;
  const rand = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 2 ** 32;
  };
  const all: number[] = [];
  const ordinary: number[] = [];
  const keyframe: number[] = [];
  for (let i = 0; i < 1000; i++) {
    const step = Math.floor(rand() * n);
    const t1 = performance.now();
    reader.readStep(step);
    const ms = performance.now() - t1;
    all.push(ms);
    (every > 0 && step % every === 0 ? keyframe : ordinary).push(ms);
  }
  // Keyframes are 1 in `every`: read some on purpose too.
  const keyframeOnPurpose: number[] = [];
  for (let i = 0; i < 50; i++) {
    const step = Math.floor(rand() * (n / every)) * every;
    const t1 = performance.now();
    reader.readStep(step);
    keyframeOnPurpose.push(performance.now() - t1);
  }
  const tc = performance.now();
  const curve = reader.curve(2000);
  const curveMs = performance.now() - tc;
  const th = performance.now();
  reader.history(0, 'activation', undefined, 240);
  const historyMs = performance.now() - th;
  const afterReads = memory();
  reader.close();
  const mb = (x: number) => round(x / 1e6, 1);
  emit({
    steps: n,
    damage: reader.damage,
    openMs: round(openMs, 1),
    randomStepMs: round(median(all), 3),
    randomStepP90Ms: round(quantile(all, 0.9), 3),
    ordinaryStepMs: round(median(ordinary), 3),
    keyframeStepMs: round(median(keyframeOnPurpose), 3),
    curve2000Ms: round(curveMs, 2),
    curvePoints: curve.length,
    history240Ms: round(historyMs, 1),
    readerMB: mb(afterOpen.rss - before.rss),
    readerHeapMB: mb(afterOpen.heap + afterOpen.external - before.heap - before.external),
    readerMBAfter1000Reads: mb(afterReads.rss - before.rss),
    readerHeapMBAfter1000Reads: mb(afterReads.heap + afterReads.external - before.heap - before.external),
  });
}
