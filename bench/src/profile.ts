// Where the traced step's time goes (seed MLP, batch 64, same backend as the step benchmark):
// each phase of the step, each kernel (tf.profile), the capture's own work, and micro-benchmarks
// of the matMul forms the dense layer uses, to check which reach XNNPACK on tfjs-wasm.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { CapturePipeline } from '../../src/runner/capture/capturePipeline';
import { DEFAULT_CAPTURE, isKeyframe } from '../../src/runner/capture/recordBuilder';
import * as tf from '@tensorflow/tfjs';
import { summarize } from '../../src/runner/capture/summarize';
import { applyActivation, backThroughActivation, type ActivationFn } from '../../src/runner/tracer/activations';
import { DenseTracer } from '../../src/runner/tracer/layers/dense';
import { batchAccuracy, lossAndGradient, resolveLoss } from '../../src/runner/tracer/losses';
import type { SequentialTracer } from '../../src/runner/tracer/sequentialTracer';
import type { BackwardResult, CaptureSink, Keep } from '../../src/runner/tracer/traceableLayer';
import { encodeRecord } from '../../src/trace/recordCodec';
import { log, median, round, seedModel, timeReps } from './common';
import { buildRecord, takenOf } from './engine';
import { drain, newTracer, startStep } from './step';

interface Batch {
  xs: tf.Tensor2D;
  ys: tf.Tensor2D;
}

const REPS = 60;

/**
 * Median ms of each phase of a traced step (each `next()` of the generator), then the capture; and
 * the garbage collector's pauses (node:perf_hooks 'gc' entries), in total and by the phase they
 * landed in: full capture allocates megabytes of Float32Arrays a step, and V8 collects them
 * wherever the allocation threshold trips.
 */
async function phaseProfile(batches: Batch[], capturing: boolean, steps: number): Promise<Record<string, number>> {
  const tracer = newTracer(seedModel());
  const times = new Map<string, number[]>();
  const add = (k: string, ms: number) => times.set(k, [...(times.get(k) ?? []), ms]);
  const spans: { phase: string; t0: number; t1: number }[] = [];
  const gcs: { start: number; duration: number }[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcs.push({ start: e.startTime, duration: e.duration });
  });
  observer.observe({ entryTypes: ['gc'] });
  let windowStart = 0;
  for (let s = 0; s < steps + 10; s++) {
    if (s === 10) windowStart = performance.now();
    const b = batches[s % batches.length];
    const gen = startStep(tracer, b.xs, b.ys, capturing);
    const row: [string, number, number][] = [];
    const tStart = performance.now();
    for (;;) {
      const t0 = performance.now();
      const next = gen.next();
      const t1 = performance.now();
      if (next.done) {
        row.push(['return (read back prediction, target)', t0, t1]);
        const outcome = next.value;
        if (capturing) {
          const built = buildRecord(1, false, outcome);
          const t2 = performance.now();
          encodeRecord(built.record);
          const t3 = performance.now();
          if (built.readBackMs > 0) row.push(['copy out (training thread)', t1, t1 + built.readBackMs]);
          row.push([built.readBackMs > 0 ? 'buildStepRecord (capture worker)' : 'buildStepRecord', t2 - built.buildMs, t2], ['encodeRecord', t2, t3]);
        }
        const t4 = performance.now();
        outcome.scope.dispose();
        row.push(['scope.dispose', t4, performance.now()]);
        break;
      }
      const v = next.value;
      row.push([v.layer >= 0 ? `${v.phase} layer ${v.layer}` : v.phase, t0, t1]);
    }
    row.push(['total', tStart, performance.now()]);
    if (s >= 10) {
      for (const [k, t0, t1] of row) {
        add(k, t1 - t0);
        if (k !== 'total') spans.push({ phase: k, t0, t1 });
      }
    }
  }
  const windowEnd = performance.now();
  await new Promise((r) => setTimeout(r, 50));
  observer.disconnect();
  const inWindow = gcs.filter((g) => g.start >= windowStart && g.start <= windowEnd);
  const gcByPhase = new Map<string, number>();
  for (const g of inWindow) {
    const span = spans.find((sp) => g.start >= sp.t0 && g.start <= sp.t1);
    const k = span?.phase ?? 'between phases';
    gcByPhase.set(k, (gcByPhase.get(k) ?? 0) + g.duration);
  }
  const out: Record<string, number> = Object.fromEntries([...times].map(([k, v]) => [k, round(median(v))]));
  out['GC pauses, ms per step (mean)'] = round(inWindow.reduce((a, g) => a + g.duration, 0) / steps);
  out['GC pauses per step'] = round(inWindow.length / steps, 2);
  for (const [k, ms] of [...gcByPhase].sort((a, b) => b[1] - a[1]).slice(0, 3)) out[`GC ms per step landing in: ${k}`] = round(ms / steps);
  return out;
}

/** Kernel time per traced step, by kernel and shapes (tf.profile), and the JS around the kernels. */
async function kernelProfile(batches: Batch[], capturing: boolean, steps: number): Promise<unknown> {
  const tracer = newTracer(seedModel());
  for (let s = 0; s < 5; s++) drain(tracer, batches[s % batches.length].xs, batches[s % batches.length].ys, capturing).scope.dispose();
  const byKernel = new Map<string, { ms: number; count: number }>();
  let wall = 0;
  let kernelTotal = 0;
  let kernelCount = 0;
  for (let s = 0; s < steps; s++) {
    const b = batches[s % batches.length];
    const t0 = performance.now();
    const info = await tf.profile(() => {
      drain(tracer, b.xs, b.ys, capturing).scope.dispose();
    });
    wall += performance.now() - t0;
    for (const k of info.kernels) {
      const ms = await (k.kernelTimeMs as unknown as Promise<number> | number);
      const key = `${k.name} ${k.inputShapes.map((sh) => `[${sh?.join(',')}]`).join('·')}`;
      const e = byKernel.get(key) ?? { ms: 0, count: 0 };
      e.ms += ms;
      e.count++;
      byKernel.set(key, e);
      kernelTotal += ms;
      kernelCount++;
    }
  }
  const rows = [...byKernel]
    .map(([kernel, e]) => ({ kernel, msPerStep: round(e.ms / steps, 4), callsPerStep: round(e.count / steps, 2) }))
    .sort((a, b) => b.msPerStep - a.msPerStep);
  return {
    capturing,
    kernelsPerStep: round(kernelCount / steps, 1),
    kernelMsPerStep: round(kernelTotal / steps),
    wallMsPerStepUnderProfiler: round(wall / steps),
    top: rows.slice(0, 25),
  };
}

function gflops(flops: number, ms: number): number {
  return round(flops / (ms / 1000) / 1e9, 1);
}

/** Micro-benchmarks of the ops a dense layer's step is made of, at batch 64. */
function opProfile(): Record<string, { ms: number; gflops?: number }> {
  const B = 64;
  const out: Record<string, { ms: number; gflops?: number }> = {};
  const rec = (name: string, times: number[], flops?: number) => {
    const ms = median(times);
    out[name] = flops ? { ms: round(ms, 4), gflops: gflops(flops, ms) } : { ms: round(ms, 4) };
  };
  const x = tf.randomUniform([B, 784]) as tf.Tensor2D;
  const w0 = tf.randomNormal([784, 256]) as tf.Tensor2D;
  const b0 = tf.randomNormal([256]) as tf.Tensor1D;
  const w1 = tf.randomNormal([256, 128]) as tf.Tensor2D;
  const dZ0 = tf.randomNormal([B, 256]) as tf.Tensor2D;
  const dZ1 = tf.randomNormal([B, 128]) as tf.Tensor2D;
  const f0 = 2 * B * 784 * 256;
  const f1 = 2 * B * 256 * 128;

  // The matMuls of a dense step, each form timed in interleaved rounds. Operands that are new
  // tensors every step in a real run (W after each update, dZ, Wᵀ) are new tensors here too:
  // tfjs-wasm caches its XNNPACK operator (with B packed) per B tensor id.
  const fresh = (shape: number[]) => () => {
    const t = tf.randomNormal(shape);
    t.dataSync();
    return t;
  };
  const groups: { title: string; flops: number; variants: { name: string; make?: () => tf.Tensor; run: (t?: tf.Tensor) => tf.Tensor; reps?: number }[] }[] = [
    {
      title: 'fwd0 z = x[64,784]·W[784,256] + b',
      flops: f0,
      variants: [
        { name: 'matMul(x, W) + add(b), W new each step (dense.ts before 1dd4624: every update gives W a new tensor id → XNNPACK re-creates the operator and re-packs W)', make: fresh([784, 256]), run: (w) => tf.tidy(() => tf.add(tf.matMul(x, w as tf.Tensor2D), b0)) },
        { name: 'matMul(x, W) + add(b), same W every call (operator cached: the best case)', run: () => tf.tidy(() => tf.add(tf.matMul(x, w0), b0)) },
        { name: 'fused.matMul(x, W, bias), W new each step', make: fresh([784, 256]), run: (w) => tf.fused.matMul({ a: x, b: w as tf.Tensor2D, bias: b0 }) },
        { name: 'transpose(matMul(transpose(W), transpose(x))) + add(b), W new each step (W as A, only xᵀ packed: dense.ts since 1dd4624)', make: fresh([784, 256]), run: (w) => tf.tidy(() => tf.add(tf.transpose(tf.matMul(tf.transpose(w as tf.Tensor2D), tf.transpose(x))), b0)) },
      ],
    },
    {
      title: 'fwd1 z = a[64,256]·W1[256,128]',
      flops: f1,
      variants: [
        { name: 'matMul(a, W1), W1 new each step (W1 packed)', make: fresh([256, 128]), run: (w) => tf.matMul(dZ0, w as tf.Tensor2D) },
        { name: 'matMul(a, W1), same W1 (operator cached)', run: () => tf.matMul(dZ0, w1) },
      ],
    },
    {
      title: 'bwd0 dW = xᵀ·dZ, x[64,784], dZ[64,256] new each step',
      flops: f0,
      variants: [
        { name: 'matMul(transpose(x), dZ) (dense.ts)', make: fresh([B, 256]), run: (dz) => tf.tidy(() => tf.matMul(tf.transpose(x), dz as tf.Tensor2D)) },
        { name: 'matMul(x, dZ, transposeA=true) (tfjs autodiff form)', make: fresh([B, 256]), run: (dz) => tf.matMul(x, dz as tf.Tensor2D, true, false), reps: 8 },
        { name: 'transpose(matMul(transpose(dZ), x)) (x as B: re-packed every step, x is a new batch)', make: fresh([B, 256]), run: (dz) => tf.tidy(() => tf.transpose(tf.matMul(tf.transpose(dz as tf.Tensor2D), x))) },
      ],
    },
    {
      title: 'bwd1 dX = dZ·W1ᵀ, dZ[64,128], W1[256,128], both new each step',
      flops: f1,
      variants: [
        { name: 'matMul(dZ, transpose(W1)) (dense.ts before 1dd4624)', make: fresh([256, 128]), run: (w) => tf.tidy(() => tf.matMul(dZ1, tf.transpose(w as tf.Tensor2D))) },
        { name: 'matMul(dZ, W1, false, transposeB=true) (tfjs autodiff form)', make: fresh([256, 128]), run: (w) => tf.matMul(dZ1, w as tf.Tensor2D, false, true), reps: 8 },
        { name: 'transpose(matMul(W1, transpose(dZ))) (W1 as A, only dZᵀ [128,64] packed: dense.ts since 1dd4624)', make: fresh([256, 128]), run: (w) => tf.tidy(() => tf.transpose(tf.matMul(w as tf.Tensor2D, tf.transpose(dZ1)))) },
      ],
    },
  ];
  for (const g of groups) {
    const times = g.variants.map(() => [] as number[]);
    const rounds = 30;
    for (let r = 0; r < rounds + 3; r++) {
      g.variants.forEach((v, i) => {
        if ((v.reps ?? rounds) + 3 <= r) return;
        const input = v.make?.();
        const t0 = performance.now();
        v.run(input).dispose();
        const ms = performance.now() - t0;
        input?.dispose();
        if (r >= 3) times[i].push(ms);
      });
    }
    g.variants.forEach((v, i) => rec(`${g.title}: ${v.name}`, times[i], g.flops));
  }
  rec('transpose(x[64,784])', timeReps(() => tf.transpose(x).dispose(), REPS));
  rec('transpose(W0[784,256])', timeReps(() => tf.transpose(w0).dispose(), REPS));
  rec('transpose(W1[256,128])', timeReps(() => tf.transpose(w1).dispose(), REPS));
  {
    const z = tf.matMul(x, w0);
    rec('add(z[64,256], b[256])', timeReps(() => tf.add(z, b0).dispose(), REPS));
    rec('relu(z[64,256])', timeReps(() => tf.relu(z).dispose(), REPS));
    rec('step(z[64,256]) (relu derivative mask)', timeReps(() => tf.step(z).dispose(), REPS));
    rec('mul(dA, mask) [64,256]', timeReps(() => tf.mul(dZ0, z).dispose(), REPS));
    rec('sum(dZ[64,256], 0) (bias gradient)', timeReps(() => tf.sum(dZ0, 0).dispose(), REPS));
    z.dispose();
  }

  // Per-op dispatch cost: the smallest op there is.
  {
    const s1 = tf.scalar(1);
    const s2 = tf.scalar(2);
    rec('dispatch: add(scalar, scalar) (per-op overhead of tfjs + wasm)', timeReps(() => tf.add(s1, s2).dispose(), 200, 20));
    rec('dispatch: tidy(() => add(scalar, scalar))', timeReps(() => tf.tidy(() => tf.add(s1, s2)), 200, 20));
    tf.dispose([s1, s2]);
  }

  // Loss phase pieces (batch 64, 10 classes).
  {
    const p = tf.softmax(tf.randomNormal([B, 10]));
    const y = tf.oneHot(tf.randomUniform([B], 0, 10, 'int32') as tf.Tensor1D, 10).toFloat();
    const loss = resolveLoss('categoricalCrossentropy');
    rec('loss: lossAndGradient (valueAndGrad of the cross-entropy)', timeReps(() => tf.tidy(() => { const r = lossAndGradient(loss, y, p); return [r.value, r.grad]; }), REPS));
    rec('loss: batchAccuracy', timeReps(() => tf.tidy(() => batchAccuracy('categoricalCrossentropy', y, p)), REPS));
    rec('loss: dataSync of a scalar (one read-back)', timeReps(() => { const t = tf.sum(p); t.dataSync(); t.dispose(); }, REPS));
    rec('loss: closed-form softmax+cross-entropy ∂L/∂z = (p − y)/B (2 ops, skips the CE autodiff and the softmax backward)', timeReps(() => tf.tidy(() => tf.div(tf.sub(p, y), B)), REPS));
    tf.dispose([p, y]);
  }

  // Update: SGD on the six variables, and the capture's read-backs around it.
  {
    const model = seedModel();
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const grads = vars.map((v) => tf.randomNormal(v.shape, 0, 1e-6));
    const opt = tf.train.sgd(0.1);
    const named = () => Object.fromEntries(vars.map((v, i) => [v.name, grads[i]]));
    rec('update: sgd.applyGradients on 6 variables', timeReps(() => opt.applyGradients(named()), REPS));
    rec('capture: dataSync of all 6 variables (235,146 floats; applyUpdate does it twice)', timeReps(() => { for (const v of vars) v.dataSync(); }, REPS));
    const all = new Float32Array(235_146).map(() => Math.random() - 0.5);
    rec('capture: summarize 235,146 floats (one parameter-sized role; param, delta and gradParam each cost this)', timeReps(() => summarize(all), REPS));
    const act = new Float32Array(B * 256).map(() => Math.max(0, Math.random() - 0.5));
    rec('capture: summarize activation [64,256] (with dead-unit fraction)', timeReps(() => summarize(act, [B, 256]), REPS));
    tf.dispose(grads);
    model.layers.forEach((l) => l.dispose());
  }

  tf.dispose([x, w0, b0, w1, dZ0, dZ1]);
  return out;
}

/** A finished traced step's record: its size and how the capture work splits. */
function recordProfile(batches: Batch[]): unknown {
  const tracer = newTracer(seedModel());
  for (let s = 0; s < 3; s++) drain(tracer, batches[s].xs, batches[s].ys, true).scope.dispose();
  const ordinary: number[] = [];
  const keyframe: number[] = [];
  let ordinaryBytes = 0;
  let keyframeBytes = 0;
  let captures = 0;
  for (let s = 0; s < 20; s++) {
    const b = batches[s % batches.length];
    for (const kf of [false, true]) {
      const outcome = drain(tracer, b.xs, b.ys, true);
      captures = outcome.scope.captures.length;
      const t0 = performance.now();
      const { record } = buildRecord(s, kf, outcome);
      const bytes = encodeRecord(record).length;
      (kf ? keyframe : ordinary).push(performance.now() - t0);
      if (kf) keyframeBytes = bytes;
      else ordinaryBytes = bytes;
      outcome.scope.dispose();
    }
  }
  // summarize() per captured role, on values read back once: where the record building goes.
  const byRole = new Map<string, number[]>();
  const elements = new Map<string, number>();
  for (let s = 0; s < 10; s++) {
    const b = batches[s % batches.length];
    const outcome = drain(tracer, b.xs, b.ys, true);
    const perRole = new Map<string, number>();
    for (const c of outcome.scope.captures) {
      let values = c.tensor.dataSync() as Float32Array;
      const baseline = c.baseline;
      if (baseline) values = values.map((v, i) => v - baseline[i]);
      const t0 = performance.now();
      summarize(values, c.role === 'activation' ? c.shape : undefined);
      perRole.set(c.role, (perRole.get(c.role) ?? 0) + performance.now() - t0);
      if (s === 0) elements.set(c.role, (elements.get(c.role) ?? 0) + values.length);
    }
    for (const [role, ms] of perRole) byRole.set(role, [...(byRole.get(role) ?? []), ms]);
    outcome.scope.dispose();
  }
  return {
    summarizeMsByRole: Object.fromEntries([...byRole].map(([role, v]) => [role, { ms: round(median(v)), elements: elements.get(role) }])),
    capturedTensorsPerStep: captures,
    ordinaryStep: { buildAndEncodeMs: round(median(ordinary)), bytes: ordinaryBytes },
    keyframeStep: { buildAndEncodeMs: round(median(keyframe)), bytes: keyframeBytes },
  };
}

/** DenseTracer's fields, for the prototype below (a benchmark-only experiment, not the engine). */
interface DenseInternals {
  act?: ActivationFn;
  kernel: tf.Variable;
  bias?: tf.Variable;
  saved?: { x: tf.Tensor2D; z: tf.Tensor; a: tf.Tensor };
  forward(x: tf.Tensor, capture: CaptureSink, keep: Keep): tf.Tensor;
  backward(dA: tf.Tensor, needInputGrad: boolean, capture: CaptureSink): BackwardResult;
}

type DenseForm = 'weightsPacked' | 'weightsLeft';

/**
 * The two ways to write a dense layer's matMuls on tfjs-wasm, patched into a tracer's dense
 * layers so the whole step can be compared whatever dense.ts currently does. tfjs-wasm packs
 * XNNPACK's right operand B and caches it by B's tensor id; W gets a new id at every update.
 * - 'weightsPacked' (dense.ts before 1dd4624): z = x·W, ∂x = dZ·transpose(W): W is B, re-packed every step.
 * - 'weightsLeft' (dense.ts since 1dd4624): when W is larger than the batch operand,
 *   z = (Wᵀ·xᵀ)ᵀ and ∂x = (W·dZᵀ)ᵀ, so only the per-batch operand is packed.
 */
function withDenseForm(tracer: SequentialTracer, form: DenseForm): number {
  let patched = 0;
  const times = (x: tf.Tensor2D, w: tf.Tensor2D) =>
    form === 'weightsLeft' && w.size > x.size ? tf.transpose(tf.matMul(tf.transpose(w), tf.transpose(x))) : tf.matMul(x, w);
  const timesT = (dZ: tf.Tensor2D, w: tf.Tensor2D) =>
    form === 'weightsLeft' && w.size > dZ.size ? tf.transpose(tf.matMul(w, tf.transpose(dZ))) : tf.matMul(dZ, tf.transpose(w));
  for (const layer of (tracer as unknown as { layers: unknown[] }).layers) {
    if (!(layer instanceof DenseTracer)) continue;
    patched++;
    const d = layer as unknown as DenseInternals;
    d.forward = (x, capture, keep) => {
      const x2 = x as tf.Tensor2D;
      let z: tf.Tensor = times(x2, d.kernel as unknown as tf.Tensor2D);
      if (d.bias) z = tf.add(z, d.bias);
      const a = applyActivation(d.act, z, capture);
      d.saved = { x: keep(x2), z: keep(z), a: keep(a) };
      return a;
    };
    d.backward = (dA, needInputGrad, capture) => {
      const { x, z, a } = d.saved!;
      d.saved = undefined;
      const dZ = backThroughActivation(d.act, z, a, dA, capture) as tf.Tensor2D;
      const grads = new Map<string, tf.Tensor>();
      grads.set('kernel', tf.matMul(tf.transpose(x), dZ));
      if (d.bias) grads.set('bias', tf.sum(dZ, 0));
      const dInput = needInputGrad ? timesT(dZ, d.kernel as unknown as tf.Tensor2D) : undefined;
      return { dInput, grads };
    };
  }
  return patched;
}

/** Both forms and dense.ts as it is, capture off, interleaved step by step; same weights after 5 steps? */
function packingPrototype(batches: Batch[]): Record<string, number> {
  const models = [seedModel(), seedModel(), seedModel()];
  for (const m of models.slice(1)) m.setWeights(models[0].getWeights());
  const [asIs, packed, left] = models.map((m) => newTracer(m));
  const patchedLayers = withDenseForm(packed, 'weightsPacked') + withDenseForm(left, 'weightsLeft');
  const all: [SequentialTracer, number[]][] = [[asIs, []], [packed, []], [left, []]];
  for (let s = 0; s < 5; s++) for (const [t] of all) drain(t, batches[s].xs, batches[s].ys, false).scope.dispose();
  const diff = (i: number, j: number) => {
    let m = 0;
    models[i].getWeights().forEach((w, k) => {
      const x = w.dataSync();
      const y = models[j].getWeights()[k].dataSync();
      for (let e = 0; e < x.length; e++) m = Math.max(m, Math.abs(x[e] - y[e]));
    });
    return m;
  };
  for (let s = 0; s < 200; s++) {
    const batch = batches[s % batches.length];
    for (let j = 0; j < 3; j++) {
      const [tracer, out] = all[(j + s) % 3];
      const t0 = performance.now();
      drain(tracer, batch.xs, batch.ys, false).scope.dispose();
      out.push(performance.now() - t0);
    }
  }
  const [tAsIs, tPacked, tLeft] = all.map(([, t]) => median(t));
  return {
    denseAsIsOffMs: round(tAsIs),
    weightsPackedOffMs: round(tPacked),
    weightsLeftOffMs: round(tLeft),
    speedup: round(tPacked / tLeft, 2),
    maxWeightDifferenceAfter5Steps: Math.max(diff(1, 2), diff(0, 2)),
    patchedLayers,
  };
}

/**
 * The runner's capture pipeline in its steady state: 300 consecutive steps (batch 64) as
 * session.ts runs them, against the same capture done inline. Reports the wall time per step,
 * the training thread's busy time per step (step + read-back), and the interval between the
 * worker's `written` replies (its time per step).
 */
async function pipelineSteadyState(batches: Batch[]): Promise<Record<string, number>> {
  const tracer = newTracer(seedModel());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gl-pipeline-'));
  try {
    const meta = {
      formatVersion: 1 as const,
      runId: 'bench',
      file: 'bench',
      createdAt: new Date().toISOString(),
      backend: { name: tf.getBackend() as 'wasm', reason: 'bench' },
      model: tracer.summary,
      config: { batchSize: 64, steps: 1_000_000, seed: 1, loss: 'categoricalCrossentropy', optimizer: 'SGD', learningRate: 0.1, evalEvery: 0, capture: DEFAULT_CAPTURE },
      tfjsVersion: tf.version.tfjs,
    };
    const pipeline = new CapturePipeline(dir, meta);
    const N = 300;
    const WARM = 50;
    const busy: number[] = [];
    const resolved: number[] = [];
    const written: Promise<unknown>[] = [];
    let tWarm = 0;
    let busyAtWarm = 0;
    for (let k = 0; k < N; k++) {
      if (k === WARM) {
        tWarm = performance.now();
        await Promise.all(written);
        busyAtWarm = pipeline.workerBusyMs;
      }
      if (k >= 2) await written[k - 2];
      const b = batches[k % batches.length];
      const t0 = performance.now();
      const outcome = drain(tracer, b.xs, b.ys, true);
      const capture = takenOf(k, isKeyframe(k, Number.POSITIVE_INFINITY, DEFAULT_CAPTURE), outcome, 64, pipeline);
      outcome.scope.dispose();
      busy.push(performance.now() - t0);
      const w = (await pipeline.submit(capture, { stepMs: 0 })).written;
      written.push(w.then(() => resolved.push(performance.now())));
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(written);
    const wall = (performance.now() - tWarm) / (N - WARM);
    const workerBusy = (pipeline.workerBusyMs - busyAtWarm) / (N - WARM);
    await pipeline.close({ state: 'finished' });
    const gaps = resolved.slice(WARM + 1).map((t, i) => t - resolved[WARM + i]);
    const inline: number[] = [];
    const off: number[] = [];
    for (let k = 0; k < 150; k++) {
      const b = batches[k % batches.length];
      let t0 = performance.now();
      const outcome = drain(tracer, b.xs, b.ys, true);
      encodeRecord(buildRecord(k, isKeyframe(k, Number.POSITIVE_INFINITY, DEFAULT_CAPTURE), outcome).record);
      outcome.scope.dispose();
      inline.push(performance.now() - t0);
      t0 = performance.now();
      drain(tracer, b.xs, b.ys, false).scope.dispose();
      off.push(performance.now() - t0);
    }
    return {
      steps: N - WARM,
      pipelineWallMsPerStep: round(wall),
      trainingThreadBusyMs: round(median(busy.slice(WARM))),
      workerMsPerStep: round(median(gaps)),
      workerBusyMsPerStep: round(workerBusy),
      inlineFullMs: round(median(inline.slice(20))),
      captureOffMs: round(median(off.slice(20))),
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function profileStep(batches: Batch[], peakGflops: number): Promise<unknown> {
  log('profile: phases');
  const phasesFull = await phaseProfile(batches, true, 80);
  const phasesOff = await phaseProfile(batches, false, 80);
  log('profile: kernels');
  const kernelsFull = await kernelProfile(batches, true, 20);
  const kernelsOff = await kernelProfile(batches, false, 20);
  log('profile: ops');
  const ops = opProfile();
  log('profile: records');
  const records = recordProfile(batches);
  log('profile: dense prototype');
  const prototype = packingPrototype(batches);
  log('profile: capture pipeline, steady state');
  let pipeline: Record<string, number> | { error: string };
  try {
    pipeline = await pipelineSteadyState(batches);
  } catch (e) {
    pipeline = { error: (e as Error).message };
  }
  return { batch: 64, peakGflops: round(peakGflops, 1), phasesFull, phasesOff, kernelsFull, kernelsOff, ops, records, prototype, pipeline };
}
