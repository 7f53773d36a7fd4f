// The capture's cost alone, quick enough to repeat while tuning it (`node out/bench/bin/main.js
// capture [--quick]`): the runner's pipeline against capture off, interleaved, at each batch size
// (the ratio issue 13 targets), and the capture worker's work per step split into its phases,
// timed on this thread on real steps (batch 64): each role's summaries, buildStepRecord (the
// training thread's part), encodeRecord, and RecordSink.write (health + encode + append, the worker's).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadFashionMnist } from '../../src/api/data';
import { selectBackend, type BackendPreference } from '../../src/runner/backend';
import { wasmThreadsFromEnv } from '../../src/runner/wasmThreads';
import { RecordSink } from '../../src/runner/capture/recordSink';
import { DEFAULT_CAPTURE, buildStepRecord } from '../../src/runner/capture/recordBuilder';
import { summarize } from '../../src/runner/capture/summarize';
import { peekFloats } from '../../src/runner/tensorFloats';
import { encodeRecord } from '../../src/trace/recordCodec';
import { emit, log, median, round, seedModel } from './common';
import { copiedOf } from './engine';
import { BATCHES, benchMeta, drain, inlineVariant, newTracer, noCaptureVariant, pipelineVariant, type Batch, type Variant } from './step';

const TRAIN_EXAMPLES = 2048;

function batchesOf(xsAll: tf.Tensor2D, ysAll: tf.Tensor2D, batch: number): Batch[] {
  const out: Batch[] = [];
  for (let s = 0; s + batch <= TRAIN_EXAMPLES; s += batch) out.push({ xs: tf.slice(xsAll, [s, 0], [batch, 784]), ys: tf.slice(ysAll, [s, 0], [batch, 10]) });
  return out;
}

/**
 * The capture's work per step, phase by phase, on this thread: real steps of the seed model at
 * batch 64. On the training thread: the copy out of the backend (before the step's tensors are
 * freed); in the worker: each role's summaries, buildStepRecord from the copies, encodeRecord,
 * and RecordSink.write (health + encode + append).
 */
function capturePhases(batches: Batch[], dir: string, steps: number): Record<string, number> {
  const tracer = newTracer(seedModel());
  const sink = new RecordSink(dir, benchMeta(tracer, 64, dir));
  const times = new Map<string, number[]>();
  const add = (k: string, ms: number) => times.set(k, [...(times.get(k) ?? []), ms]);
  const warm = Math.ceil(steps / 4);
  for (let k = 0; k < steps + warm; k++) {
    const b = batches[k % batches.length];
    const outcome = drain(tracer, b.xs, b.ys, true);
    const byRole = new Map<string, number>();
    for (const c of outcome.scope.captures) {
      const t0 = performance.now();
      summarize(peekFloats(c.tensor), c.role === 'activation' ? c.shape : undefined, c.baseline);
      byRole.set(c.role, (byRole.get(c.role) ?? 0) + performance.now() - t0);
    }
    // Ordinary steps only: keyframes are one in 50 and reported apart by the step benchmark.
    let t0 = performance.now();
    const copied = copiedOf(k + 1, false, outcome, 64);
    const copyMs = performance.now() - t0;
    outcome.scope.dispose();
    t0 = performance.now();
    const record = { ...buildStepRecord(copied, DEFAULT_CAPTURE), stepMs: 0 };
    const buildMs = performance.now() - t0;
    t0 = performance.now();
    encodeRecord(record);
    const encodeMs = performance.now() - t0;
    t0 = performance.now();
    sink.write(record);
    const writeMs = performance.now() - t0;
    if (k < warm) continue;
    let all = 0;
    for (const [role, ms] of byRole) {
      add(`summarize: ${role}`, ms);
      all += ms;
    }
    add('summarize: all roles', all);
    add('copy out (training thread)', copyMs);
    add('buildStepRecord from the copies (capture worker)', buildMs);
    add('encodeRecord', encodeMs);
    add('RecordSink.write (the worker per step)', writeMs);
  }
  sink.close({ state: 'finished' });
  return Object.fromEntries([...times].map(([k, v]) => [k, round(median(v))]));
}

export async function captureMain(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  const rounds = quick ? 4 : 12;
  const perRound = 10;
  const backend = await selectBackend((process.env.GRADIENT_LENS_BACKEND as BackendPreference) || 'auto', wasmThreadsFromEnv());
  log(`capture: backend ${backend.name}`);
  const data = loadFashionMnist({ trainCount: TRAIN_EXAMPLES, testCount: 16 });
  const xsAll = data.train.xs as tf.Tensor2D;
  const ysAll = data.train.ys as tf.Tensor2D;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gl-capture-'));
  try {
    const perBatch = new Map<number, { variants: Variant[]; times: Map<string, number[]>; cpu: Map<string, number[]>; busy(): number; busyFrom: number; training(): number; trainingFrom: number; submit(): number; submitFrom: number }>();
    const closers: (() => Promise<void>)[] = [];
    for (const batch of BATCHES) {
      const batches = batchesOf(xsAll, ysAll, batch);
      const p = pipelineVariant(batches, batch, fs.mkdtempSync(path.join(tmp, `p${batch}-`)));
      closers.push(p.close);
      const variants = [p.variant, inlineVariant(batches), noCaptureVariant(batches)];
      for (const v of variants) await v.run(20);
      perBatch.set(batch, { variants, times: new Map(), cpu: new Map(), busy: p.workerBusyMs, busyFrom: p.workerBusyMs(), training: p.trainingBusyMs, trainingFrom: p.trainingBusyMs(), submit: p.submitMs, submitFrom: p.submitMs() });
    }
    for (let r = 0; r < rounds; r++) {
      for (const batch of BATCHES) {
        const b = perBatch.get(batch)!;
        for (let j = 0; j < b.variants.length; j++) {
          const v = b.variants[(j + r) % b.variants.length];
          const cpu0 = process.cpuUsage();
          const times = await v.run(perRound);
          const cpu = process.cpuUsage(cpu0);
          b.times.set(v.name, [...(b.times.get(v.name) ?? []), ...times]);
          b.cpu.set(v.name, [...(b.cpu.get(v.name) ?? []), (cpu.user + cpu.system) / 1000 / perRound]);
        }
      }
    }
    for (const close of closers) await close();
    const ratios: Record<string, unknown> = {};
    for (const batch of BATCHES) {
      const t = perBatch.get(batch)!.times;
      const pipe = median(t.get('tracedPipeline')!);
      const inline = median(t.get('tracedFull')!);
      const p10 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 10)];
      const inlineP10 = p10(t.get('tracedFull')!) / p10(t.get('tracedNoCapture')!);
      const off = median(t.get('tracedNoCapture')!);
      const b = perBatch.get(batch)!;
      const steps = t.get('tracedPipeline')!.length;
      const workerBusy = (b.busy() - b.busyFrom) / steps;
      const trainingBusy = (b.training() - b.trainingFrom) / steps;
      const submitWait = (b.submit() - b.submitFrom) / steps;
      // CPU time of the whole process (the worker's thread too) a step: the work itself, which the
      // other jobs on these two cores disturb far less than the wall clock.
      const pipeCpu = median(b.cpu.get('tracedPipeline')!);
      const offCpu = median(b.cpu.get('tracedNoCapture')!);
      ratios[String(batch)] = { pipelineMs: round(pipe), offMs: round(off), captureCost: round(pipe / off, 2), inlineMs: round(inline), captureCostInline: round(inline / off, 2), captureCostInlineP10: round(inlineP10, 2), pipelineCpuMs: round(pipeCpu), offCpuMs: round(offCpu), captureCostCpu: round(pipeCpu / offCpu, 2), workerBusyMsPerStep: round(workerBusy), trainingBusyMsPerStep: round(trainingBusy), submitMsPerStep: round(submitWait) };
      log(`capture: batch ${batch}: pipeline ${pipe.toFixed(2)} ms, off ${off.toFixed(2)} ms, capture cost ${(pipe / off).toFixed(2)}×, inline ${inline.toFixed(2)} ms ${(inline / off).toFixed(2)}× (10th percentiles ${inlineP10.toFixed(2)}×) (CPU time a step: ${pipeCpu.toFixed(2)} ms against ${offCpu.toFixed(2)} ms, ${(pipeCpu / offCpu).toFixed(2)}×); a step: the worker busy ${workerBusy.toFixed(2)} ms, the training thread ${trainingBusy.toFixed(2)} ms (step + read-back) + ${submitWait.toFixed(2)} ms in submit`);
    }
    const phases = capturePhases(batchesOf(xsAll, ysAll, 64), path.join(tmp, 'phases'), quick ? 10 : 30);
    for (const [k, v] of Object.entries(phases)) log(`capture: ${k}: ${v} ms`);
    emit({ backend: backend.name, rounds, perRound, ratios, workerPhases: phases });
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
