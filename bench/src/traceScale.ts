// Benchmark 4: a 100,000-step trace of the seed model. Records are real: the real tracer runs
// 60 steps of the seed model on Fashion-MNIST at batch 64 with the default capture policy
// (summaries every step, the selected sample every step, whole batches and full weights at
// keyframes), and those records are written again under new step numbers (keyframes where the
// policy puts them) by the real TraceWriter — budget, thinning and compression included — so the
// trace has 100,000 steps without training 100,000 steps. It also measures how well keyframe
// tensors compress (byte planes + deflate, exact; and float16) on those real weights and gradients.
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
import { KEYFRAME_DIR, decodeKeyframe, encodeKeyframe } from '../../src/trace/keyframeCodec';
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

  const compression = keyframeCompression(keyframes[0]);

  log(`trace: writing ${steps.toLocaleString('en-US')} steps to ${dir} (budget ${(policy.traceBudgetBytes ?? Infinity) / 2 ** 20} MB)`);
  const writer = new TraceWriter(dir, meta);
  let keyframeCount = 0;
  let keyframeBytes = 0;
  let ordinaryBytes = 0;
  let keyframeMs = 0;
  let maxBytes = 0;
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
    maxBytes = Math.max(maxBytes, writer.bytes);
    if (s > 0 && s % 20_000 === 0) log(`trace: ${s.toLocaleString('en-US')} steps, ${((performance.now() - t0) / 1000).toFixed(1)} s, ${(writer.bytes / 1e6).toFixed(0)} MB, ${writer.keyframeSteps.length} keyframes kept`);
  }
  writer.close({ state: 'finished' });
  const writeMs = performance.now() - t0;
  const kept = writer.keyframeSteps;
  const keyframeFiles = fs.readdirSync(path.join(dir, KEYFRAME_DIR));
  const keptKeyframeBytes = keyframeFiles.reduce((n, f) => n + fs.statSync(path.join(dir, KEYFRAME_DIR, f)).size, 0);
  const stepFileBytes = fs.statSync(path.join(dir, DATA_FILE)).size + fs.statSync(path.join(dir, INDEX_FILE)).size;
  const folderBytes = fs.readdirSync(dir).reduce((n, f) => n + (f === KEYFRAME_DIR ? keptKeyframeBytes : fs.statSync(path.join(dir, f)).size), 0);
  const ordinaryCount = steps - keyframeCount;
  const gaps = kept.slice(1).map((k, i) => k - kept[i]);
  emit({
    steps,
    backend: backend.name,
    realStepsRun: REAL_STEPS,
    budgetMB: round((policy.traceBudgetBytes ?? NaN) / 2 ** 20, 0),
    writeSeconds: round(writeMs / 1000, 2),
    writeStepsPerSec: round(steps / (writeMs / 1000), 0),
    bytesPerStep: round(folderBytes / steps, 0),
    fileMB: round(folderBytes / 1e6, 1),
    folderMB: round(folderBytes / 1e6, 1),
    folderMiB: round(folderBytes / 2 ** 20, 1),
    maxBytesDuringRunMiB: round(maxBytes / 2 ** 20, 1),
    stepFilesMB: round(stepFileBytes / 1e6, 1),
    keyframes: keyframeCount,
    keyframesKept: kept.length,
    keyframesKeptFirstLast: [kept[0] ?? null, kept[kept.length - 1] ?? null],
    keyframeGapSteps: gaps.length ? [Math.min(...gaps), Math.max(...gaps)] : [],
    keptKeyframeMB: round(keptKeyframeBytes / 1e6, 1),
    keptKeyframeBytes: kept.length ? round(keptKeyframeBytes / kept.length, 0) : null,
    keyframeBytes: round(keyframeBytes / keyframeCount, 0),
    keyframeWriteMs: round(keyframeMs / keyframeCount, 3),
    ordinaryBytes: round(ordinaryBytes / ordinaryCount, 0),
    ordinaryWriteStepsPerSec: round(ordinaryCount / ((writeMs - keyframeMs) / 1000), 0),
    keyframeShareOfBytes: round(keptKeyframeBytes / folderBytes, 3),
    compression,
  });
}

/** How the real keyframe's tensors compress: exact (byte planes + deflate) and float16, by role, with the time and float16's error. */
function keyframeCompression(record: StepRecord): Record<string, unknown> {
  const full = record.tensors.filter((t) => t.scope !== 'sample');
  const rawBytes = full.reduce((n, t) => n + t.values.byteLength, 0);
  const byRole: Record<string, { rawBytes: number; exactBytes: number; float16Bytes: number }> = {};
  for (const t of full) {
    const key = t.scope === 'batch' ? `batch ${t.role}` : t.role;
    const r = (byRole[key] ??= { rawBytes: 0, exactBytes: 0, float16Bytes: 0 });
    r.rawBytes += t.values.byteLength;
    r.exactBytes += encodeKeyframe(0, [t], 'exact').length;
    r.float16Bytes += encodeKeyframe(0, [t], 'float16').length;
  }
  const timed = (f: () => Buffer): { buf: Buffer; ms: number } => {
    const ms: number[] = [];
    let buf: Buffer = Buffer.alloc(0);
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      buf = f();
      ms.push(performance.now() - t0);
    }
    return { buf, ms: median(ms) };
  };
  const exact = timed(() => encodeKeyframe(record.step, full, 'exact'));
  const half = timed(() => encodeKeyframe(record.step, full, 'float16'));
  const decodeMs: number[] = [];
  let decoded = decodeKeyframe(exact.buf, 'bench');
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    decoded = decodeKeyframe(exact.buf, 'bench');
    decodeMs.push(performance.now() - t0);
  }
  const exactOk = decoded.every((t, k) => Buffer.from(t.values.buffer, t.values.byteOffset, t.values.byteLength).equals(Buffer.from(full[k].values.buffer, full[k].values.byteOffset, full[k].values.byteLength)));
  // float16's error on these values: worst relative error where |x| ≥ 2^-14, worst absolute below.
  let maxRel = 0;
  let maxAbsSmall = 0;
  decodeKeyframe(half.buf, 'bench').forEach((t, k) => {
    const a = full[k].values;
    for (let i = 0; i < a.length; i++) {
      const err = Math.abs(t.values[i] - a[i]);
      if (Math.abs(a[i]) >= 2 ** -14) maxRel = Math.max(maxRel, err / Math.abs(a[i]));
      else maxAbsSmall = Math.max(maxAbsSmall, err);
    }
  });
  return {
    rawBytes,
    exactBytes: exact.buf.length,
    exactRatio: round(rawBytes / exact.buf.length, 3),
    exactRoundTripBitForBit: exactOk,
    exactEncodeMs: round(exact.ms, 1),
    exactDecodeMs: round(median(decodeMs), 1),
    float16Bytes: half.buf.length,
    float16Ratio: round(rawBytes / half.buf.length, 3),
    float16EncodeMs: round(half.ms, 1),
    float16MaxRelativeError: maxRel,
    float16MaxAbsoluteErrorBelow2e14: maxAbsSmall,
    byRole: Object.fromEntries(Object.entries(byRole).map(([k, r]) => [k, { ...r, exactRatio: round(r.rawBytes / r.exactBytes, 3), float16Ratio: round(r.rawBytes / r.float16Bytes, 3) }])),
  };
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
  const full = new Set(reader.fullTensorSteps);

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
    (full.has(step) ? keyframe : ordinary).push(ms);
  }
  // Kept keyframes are few: read some on purpose too.
  const keyframeOnPurpose: number[] = [];
  const kept = [...full];
  for (let i = 0; i < 50 && kept.length > 0; i++) {
    const step = kept[Math.floor(rand() * kept.length)];
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
    fullTensorSteps: full.size,
    curve2000Ms: round(curveMs, 2),
    curvePoints: curve.length,
    history240Ms: round(historyMs, 1),
    readerMB: mb(afterOpen.rss - before.rss),
    readerHeapMB: mb(afterOpen.heap + afterOpen.external - before.heap - before.external),
    readerMBAfter1000Reads: mb(afterReads.rss - before.rss),
    readerHeapMBAfter1000Reads: mb(afterReads.heap + afterReads.external - before.heap - before.external),
  });
}
