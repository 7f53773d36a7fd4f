// The capture's cost alone, quick enough to repeat while tuning it (`node out/bench/bin/main.js
// capture [--quick]`): the runner's pipeline against capture off, interleaved, at each batch size
// (the ratio issue 13 targets), and the capture worker's work per step split into its phases,
// timed on this thread on real captures (batch 64): each role's summaries, buildStepRecord,
// encodeRecord, and RecordSink.write (build + encode + append + health, the worker's whole job).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadFashionMnist } from '../../src/api/data';
import { selectBackend, type BackendPreference } from '../../src/runner/backend';
import { DEFAULT_CAPTURE, buildStepRecord, isKeyframe, type StepCapture } from '../../src/runner/capture/recordBuilder';
import { RecordSink } from '../../src/runner/capture/recordSink';
import { summarize } from '../../src/runner/capture/summarize';
import { encodeRecord } from '../../src/trace/recordCodec';
import { emit, log, median, round, seedModel } from './common';
import { readBackCapture } from './engine';
import { BATCHES, benchMeta, drain, newTracer, noCaptureVariant, pipelineVariant, type Batch, type Variant } from './step';

const TRAIN_EXAMPLES = 2048;

function batchesOf(xsAll: tf.Tensor2D, ysAll: tf.Tensor2D, batch: number): Batch[] {
  const out: Batch[] = [];
  for (let s = 0; s + batch <= TRAIN_EXAMPLES; s += batch) out.push({ xs: tf.slice(xsAll, [s, 0], [batch, 784]), ys: tf.slice(ysAll, [s, 0], [batch, 10]) });
  return out;
}

/** The worker's job, phase by phase, on this thread: real captures of the seed model at batch 64. */
function workerPhases(batches: Batch[], dir: string, steps: number): Record<string, number> {
  const tracer = newTracer(seedModel());
  const captures: StepCapture[] = [];
  for (let k = 0; k < steps; k++) {
    const b = batches[k % batches.length];
    const outcome = drain(tracer, b.xs, b.ys, true);
    // Ordinary steps only: keyframes are one in 50 and reported apart by the step benchmark.
    captures.push(readBackCapture(k + 1, false, outcome, 64));
    outcome.scope.dispose();
  }
  const sink = new RecordSink(dir, benchMeta(tracer, 64, dir));
  const times = new Map<string, number[]>();
  const add = (k: string, ms: number) => times.set(k, [...(times.get(k) ?? []), ms]);
  const rounds = 4;
  for (let r = 0; r < rounds; r++) {
    for (const capture of captures) {
      const byRole = new Map<string, number>();
      for (const c of capture.captures) {
        const t0 = performance.now();
        summarize(c.values, c.role === 'activation' ? c.shape : undefined, c.baseline);
        byRole.set(c.role, (byRole.get(c.role) ?? 0) + performance.now() - t0);
      }
      let all = 0;
      for (const [role, ms] of byRole) {
        add(`summarize: ${role}`, ms);
        all += ms;
      }
      add('summarize: all roles', all);
      let t0 = performance.now();
      const record = buildStepRecord(capture, DEFAULT_CAPTURE);
      add('buildStepRecord', performance.now() - t0);
      t0 = performance.now();
      encodeRecord(record);
      add('encodeRecord', performance.now() - t0);
      t0 = performance.now();
      sink.write(capture);
      add('RecordSink.write (the worker per step)', performance.now() - t0);
    }
  }
  sink.close({ state: 'finished' });
  return Object.fromEntries([...times].map(([k, v]) => [k, round(median(v.slice(v.length / rounds)))]));
}

export async function captureMain(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  const rounds = quick ? 4 : 12;
  const perRound = 10;
  const backend = await selectBackend((process.env.GRADIENT_LENS_BACKEND as BackendPreference) || 'auto');
  log(`capture: backend ${backend.name}`);
  const data = loadFashionMnist({ trainCount: TRAIN_EXAMPLES, testCount: 16 });
  const xsAll = data.train.xs as tf.Tensor2D;
  const ysAll = data.train.ys as tf.Tensor2D;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gl-capture-'));
  try {
    const perBatch = new Map<number, { variants: Variant[]; times: Map<string, number[]>; busy(): number; busyFrom: number; training(): number; trainingFrom: number; submit(): number; submitFrom: number }>();
    const closers: (() => Promise<void>)[] = [];
    for (const batch of BATCHES) {
      const batches = batchesOf(xsAll, ysAll, batch);
      const p = pipelineVariant(batches, batch, fs.mkdtempSync(path.join(tmp, `p${batch}-`)));
      closers.push(p.close);
      const variants = [p.variant, noCaptureVariant(batches)];
      for (const v of variants) await v.run(20);
      perBatch.set(batch, { variants, times: new Map(), busy: p.workerBusyMs, busyFrom: p.workerBusyMs(), training: p.trainingBusyMs, trainingFrom: p.trainingBusyMs(), submit: p.submitMs, submitFrom: p.submitMs() });
    }
    for (let r = 0; r < rounds; r++) {
      for (const batch of BATCHES) {
        const b = perBatch.get(batch)!;
        for (let j = 0; j < b.variants.length; j++) {
          const v = b.variants[(j + r) % b.variants.length];
          b.times.set(v.name, [...(b.times.get(v.name) ?? []), ...(await v.run(perRound))]);
        }
      }
    }
    for (const close of closers) await close();
    const ratios: Record<string, unknown> = {};
    for (const batch of BATCHES) {
      const t = perBatch.get(batch)!.times;
      const pipe = median(t.get('tracedPipeline')!);
      const off = median(t.get('tracedNoCapture')!);
      const b = perBatch.get(batch)!;
      const steps = t.get('tracedPipeline')!.length;
      const workerBusy = (b.busy() - b.busyFrom) / steps;
      const trainingBusy = (b.training() - b.trainingFrom) / steps;
      const submitWait = (b.submit() - b.submitFrom) / steps;
      ratios[String(batch)] = { pipelineMs: round(pipe), offMs: round(off), captureCost: round(pipe / off, 2), workerBusyMsPerStep: round(workerBusy), trainingBusyMsPerStep: round(trainingBusy), submitMsPerStep: round(submitWait) };
      log(`capture: batch ${batch}: pipeline ${pipe.toFixed(2)} ms, off ${off.toFixed(2)} ms, capture cost ${(pipe / off).toFixed(2)}×; a step: the worker busy ${workerBusy.toFixed(2)} ms, the training thread ${trainingBusy.toFixed(2)} ms (step + read-back) + ${submitWait.toFixed(2)} ms in submit`);
    }
    const phases = workerPhases(batchesOf(xsAll, ysAll, 64), path.join(tmp, 'phases'), quick ? 10 : 30);
    for (const [k, v] of Object.entries(phases)) log(`capture: ${k}: ${v} ms`);
    emit({ backend: backend.name, rounds, perRound, ratios, workerPhases: phases });
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
