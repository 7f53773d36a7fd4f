// Benchmark 6: convolutional nets, traced on the runner's pipeline (full capture) and with capture
// off, against PyTorch on the same batches, in interleaved rounds; then where a conv step's time
// goes: each phase of the traced step, and the ops of each conv layer's forward and backward at
// that layer's shapes (forward conv, ∂input, ∂filter), each form timed against the others.
//   lesson13: lesson 13's net (conv 8 → pool → conv 16 → pool → dense 10), batch 64
//   midsize:  conv 32 → 32 → pool → 64 → 64 → pool → dense 512 → 10 (594,922 params), batch 128
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadFashionMnist } from '../../src/api/data';
import { selectBackend, type BackendPreference } from '../../src/runner/backend';
import { wasmThreadsFromEnv } from '../../src/runner/wasmThreads';
import { conv2dFilterGrad, conv2dInputGrad, type ConvConfig } from '../../src/runner/tracer/layers/conv2d';
import { biasGrad } from '../../src/runner/tracer/layers/weightedLayer';
import { emit, log, median, quantile, round } from './common';
import { buildRecord } from './engine';
import { drain, newTracer, noCaptureVariant, pipelineVariant, startStep, type Variant } from './step';

interface Batch {
  xs: tf.Tensor;
  ys: tf.Tensor;
}
import { TorchPeer } from './torchPeer';

export type ConvNetName = 'lesson13' | 'midsize';
export const CONV_NETS: ConvNetName[] = ['lesson13', 'midsize'];
const TRAIN_EXAMPLES = 2048;
const LR = 0.01;

interface NetSpec {
  batch: number;
  model(): tf.Sequential;
  describe: string;
}

const NETS: Record<ConvNetName, NetSpec> = {
  lesson13: {
    batch: 64,
    describe: "lesson 13's net: conv 3×3×8 relu → max pool 2 → conv 3×3×16 relu → max pool 2 → flatten → dense 10 softmax (5,258 params)",
    model: () =>
      tf.sequential({
        layers: [
          tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 8, kernelSize: 3, activation: 'relu' }),
          tf.layers.maxPooling2d({ poolSize: 2 }),
          tf.layers.conv2d({ filters: 16, kernelSize: 3, activation: 'relu' }),
          tf.layers.maxPooling2d({ poolSize: 2 }),
          tf.layers.flatten(),
          tf.layers.dense({ units: 10, activation: 'softmax' }),
        ],
      }),
  },
  midsize: {
    batch: 128,
    describe: 'mid-size: conv 3×3×32 relu → conv 3×3×32 relu → max pool 2 → conv 3×3×64 relu → conv 3×3×64 relu → max pool 2 → flatten → dense 512 relu → dense 10 softmax (594,922 params)',
    model: () =>
      tf.sequential({
        layers: [
          tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: 'relu' }),
          tf.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu' }),
          tf.layers.maxPooling2d({ poolSize: 2 }),
          tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }),
          tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }),
          tf.layers.maxPooling2d({ poolSize: 2 }),
          tf.layers.flatten(),
          tf.layers.dense({ units: 512, activation: 'relu' }),
          tf.layers.dense({ units: 10, activation: 'softmax' }),
        ],
      }),
  },
};

const stats = (t: number[]) => ({ n: t.length, median: round(median(t)), p10: round(quantile(t, 0.1)), p90: round(quantile(t, 0.9)) });

/** Median ms of each phase of a traced step (each `next()` of the generator), capture off. */
function phaseProfile(net: ConvNetName, batches: Batch[], steps: number): Record<string, number> {
  const model = NETS[net].model();
  const tracer = newTracer(model, LR);
  const names = model.layers.map((l, i) => `${l.getClassName()} ${i}`);
  const times = new Map<string, number[]>();
  for (let s = 0; s < steps + 3; s++) {
    const b = batches[s % batches.length];
    const gen = startStep(tracer, b.xs, b.ys, false);
    for (;;) {
      const t0 = performance.now();
      const next = gen.next();
      const ms = performance.now() - t0;
      const key = next.done ? 'return (read back prediction, target)' : next.value.layer >= 0 ? `${next.value.phase} ${names[next.value.layer]}` : next.value.phase;
      if (s >= 3) times.set(key, [...(times.get(key) ?? []), ms]);
      if (next.done) {
        next.value.scope.dispose();
        break;
      }
    }
  }
  return Object.fromEntries([...times].map(([k, v]) => [k, round(median(v))]));
}

/** The capture's own work per step, inline: the read-back (training thread) and the record (the worker's part). */
function captureProfile(net: ConvNetName, batches: Batch[], steps: number): Record<string, number> {
  const tracer = newTracer(NETS[net].model(), LR);
  const readBackMs: number[] = [];
  const buildMs: number[] = [];
  let values = 0;
  for (let s = 0; s < steps + 3; s++) {
    const b = batches[s % batches.length];
    const outcome = drain(tracer, b.xs, b.ys, true);
    values = outcome.scope.captures.reduce((sum, c) => sum + c.shape.reduce((p, d) => p * d, 1), 0);
    const built = buildRecord(s + 1, false, outcome);
    outcome.scope.dispose();
    if (s >= 3) {
      readBackMs.push(built.readBackMs);
      buildMs.push(built.buildMs);
    }
  }
  return { readBackMs: round(median(readBackMs)), buildStepRecordMs: round(median(buildMs)), capturedMBPerStep: round((values * 4) / 1e6, 1) };
}

interface OpForm {
  name: string;
  run(): tf.Tensor;
}

/**
 * The ops of one conv layer at its shapes, each form in interleaved rounds. The kernel is a new
 * tensor every call, as after every update: tfjs-wasm caches XNNPACK's packed filter per id.
 */
function convLayerOps(x: tf.Tensor4D, kernelShape: [number, number, number, number], needInputGrad: boolean, rounds: number): Record<string, { ms: number; gflops: number }> {
  const [kh, kw, ci, co] = kernelShape;
  const cfg: ConvConfig = { strides: [1, 1], padding: 'valid', dilation: [1, 1], kernelSize: [kh, kw] };
  const [n, h, w] = x.shape;
  const [oh, ow] = [h - kh + 1, w - kw + 1];
  const flops = 2 * n * oh * ow * co * kh * kw * ci;
  const base = tf.randomNormal(kernelShape, 0, 0.1) as tf.Tensor4D;
  const bias = tf.zeros([co]) as tf.Tensor1D;
  const dZ = tf.randomNormal([n, oh, ow, co]) as tf.Tensor4D;
  let kernel = base;
  const forms: OpForm[] = [
    { name: 'forward: conv2d, add bias, relu (3 ops)', run: () => tf.tidy(() => tf.relu(tf.add(tf.conv2d(x, kernel, 1, 'valid'), bias))) },
    { name: 'forward: fused conv2d + bias + relu (1 op)', run: () => tf.fused.conv2d({ x, filter: kernel, strides: 1, pad: 'valid', bias, activation: 'relu' }) },
    { name: '∂filter: conv2dFilterGrad (conv2d of the transposed input with the transposed ∂z)', run: () => tf.tidy(() => conv2dFilterGrad(x, dZ, cfg)) },
    { name: 'relu backward: ∂a·step(z)', run: () => tf.tidy(() => tf.mul(dZ, tf.step(dZ))) },
    { name: '∂bias: sum(∂z) over the leading axes (before a16859d)', run: () => tf.sum(dZ, [0, 1, 2]) },
    { name: '∂bias: biasGrad, ones·∂z (weightedLayer.ts)', run: () => tf.tidy(() => biasGrad(dZ)) },
  ];
  if (needInputGrad) {
    forms.push(
      { name: '∂input: conv2dTranspose (the Conv2DBackpropInput kernel)', run: () => tf.conv2dTranspose(dZ, kernel, x.shape, 1, 'valid') },
      { name: '∂input: conv2dInputGrad (conv2d of the padded ∂z with the flipped kernel)', run: () => tf.tidy(() => conv2dInputGrad(dZ, kernel, x.shape, cfg)) },
    );
  }
  const times = forms.map(() => [] as number[]);
  for (let r = 0; r < rounds + 2; r++) {
    forms.forEach((f, i) => {
      kernel = tf.add(base, 0) as tf.Tensor4D;
      const t0 = performance.now();
      const out = f.run();
      out.dataSync();
      const ms = performance.now() - t0;
      out.dispose();
      kernel.dispose();
      if (r >= 2) times[i].push(ms);
    });
  }
  tf.dispose([base, bias, dZ]);
  const out: Record<string, { ms: number; gflops: number }> = {};
  forms.forEach((f, i) => {
    const ms = median(times[i]);
    out[f.name] = { ms: round(ms), gflops: round((/^(∂bias|relu)/.test(f.name) ? 0 : flops) / ms / 1e6, 1) };
  });
  return out;
}

/** convLayerOps for every conv2d layer of the net, with its input shape at the net's batch. */
function opProfile(net: ConvNetName, rounds: number): Record<string, Record<string, { ms: number; gflops: number }>> {
  const spec = NETS[net];
  const model = spec.model();
  const out: Record<string, Record<string, { ms: number; gflops: number }>> = {};
  model.layers.forEach((layer, i) => {
    if (layer.getClassName() !== 'Conv2D') return;
    const shape = (layer.input as tf.SymbolicTensor).shape.slice(1) as [number, number, number];
    const kernelShape = layer.getWeights()[0].shape as [number, number, number, number];
    const x = tf.randomUniform([spec.batch, ...shape]) as tf.Tensor4D;
    out[`Conv2D ${i} [${spec.batch},${shape.join(',')}] * [${kernelShape.join(',')}]`] = convLayerOps(x, kernelShape, i > 0, rounds);
    x.dispose();
  });
  model.dispose();
  return out;
}

/** Sums the phase profile into the categories: forward conv, conv backward, pooling, the rest. */
function breakdown(phases: Record<string, number>): Record<string, number> {
  const cat: Record<string, number> = {};
  const add = (k: string, ms: number) => (cat[k] = round((cat[k] ?? 0) + ms));
  for (const [k, ms] of Object.entries(phases)) {
    if (/^forward Conv2D/.test(k)) add('forward conv (conv, bias, relu)', ms);
    else if (/^backward Conv2D/.test(k)) add('conv backward (∂input, ∂filter, ∂bias, relu)', ms);
    else if (/MaxPooling2D/.test(k)) add('pooling (forward and backward)', ms);
    else if (/Dense/.test(k)) add('dense (forward and backward)', ms);
    else add(/^(forward|backward) /.test(k) ? 'other layers (flatten)' : k, ms);
  }
  return cat;
}

async function netBench(net: ConvNetName, xsAll: tf.Tensor4D, ysAll: tf.Tensor2D, torch: TorchPeer | undefined, tmp: string, opts: { rounds: number; perRound: number; warm: number }): Promise<Record<string, unknown>> {
  const spec = NETS[net];
  const batches: Batch[] = [];
  for (let s = 0; s + spec.batch <= TRAIN_EXAMPLES; s += spec.batch) {
    batches.push({ xs: tf.slice(xsAll, [s, 0, 0, 0], [spec.batch, 28, 28, 1]), ys: tf.slice(ysAll, [s, 0], [spec.batch, 10]) });
  }
  const pipe = pipelineVariant(batches, spec.batch, fs.mkdtempSync(path.join(tmp, `conv-${net}-`)), spec.model(), LR);
  const variants: Variant[] = [pipe.variant, noCaptureVariant(batches, spec.model(), LR)];
  if (torch) {
    variants.push({
      name: 'torchOpenblas',
      async run(count) {
        const r = await torch.request({ cmd: 'steps', net, batch: spec.batch, count, lr: LR }, 600_000);
        if (r.error) throw new Error(String(r.error));
        return r.ms as number[];
      },
    });
  }
  let torchError: string | undefined;
  for (const v of variants) await v.run(opts.warm);
  const times = new Map<string, number[]>();
  const tensorsBefore = tf.memory().numTensors;
  for (let r = 0; r < opts.rounds; r++) {
    for (let j = 0; j < variants.length; j++) {
      const v = variants[(j + r) % variants.length];
      try {
        times.set(v.name, [...(times.get(v.name) ?? []), ...(await v.run(opts.perRound))]);
      } catch (e) {
        if (v.name !== 'torchOpenblas') throw e;
        torchError = (e as Error).message;
      }
    }
    log(`conv ${net}: round ${r + 1}/${opts.rounds}`);
  }
  const leaked = tf.memory().numTensors - tensorsBefore;
  await pipe.close();
  const med = (name: string) => {
    const t = times.get(name);
    return t && t.length > 0 ? round(median(t)) : null;
  };
  log(`conv ${net}: profile`);
  const phases = phaseProfile(net, batches, net === 'midsize' ? 8 : 30);
  const capture = captureProfile(net, batches, net === 'midsize' ? 5 : 20);
  const ops = opProfile(net, net === 'midsize' ? 5 : 20);
  for (const b of batches) tf.dispose([b.xs, b.ys]);
  const tracedMs = med('tracedPipeline');
  const tracedNoCaptureMs = med('tracedNoCapture');
  const torchMs = torchError ? null : med('torchOpenblas');
  return {
    net: spec.describe,
    batch: spec.batch,
    tracedMs,
    tracedNoCaptureMs,
    torchMs,
    torchWhyNull: torch ? (torchError ?? null) : 'no PyTorch peer',
    stats: Object.fromEntries([...times].map(([name, t]) => [name, stats(t)])),
    leakedTensors: leaked,
    profile: { breakdown: breakdown(phases), phases, capture, ops },
  };
}

export async function convBench(opts: { rounds: number; perRound: number; warm: number; backend: BackendPreference; nets: ConvNetName[] }): Promise<unknown> {
  const backend = await selectBackend(opts.backend, wasmThreadsFromEnv());
  log(`conv: backend ${backend.name} (${backend.reason})`);
  const data = loadFashionMnist({ trainCount: TRAIN_EXAMPLES, testCount: 16, flatten: false });
  const xsAll = data.train.xs as tf.Tensor4D;
  const ysAll = data.train.ys as tf.Tensor2D;
  tf.dispose([data.test.xs, data.test.ys]);
  const { peer: torch, info: torchInfo, reason } = await TorchPeer.start();
  let torchWhyNull = reason;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gl-conv-'));
  try {
    if (torch) {
      const file = path.join(tmp, 'train.f32');
      const joined = tf.tidy(() => tf.concat([tf.reshape(xsAll, [TRAIN_EXAMPLES, 784]), ysAll], 1));
      fs.writeFileSync(file, Buffer.from((joined.dataSync() as Float32Array).buffer));
      joined.dispose();
      const r = await torch.request({ cmd: 'data', path: file, n: TRAIN_EXAMPLES });
      if (r.error) torchWhyNull = String(r.error);
    } else {
      log(`conv: no PyTorch peer: ${reason}`);
    }
    const nets: Record<string, unknown> = {};
    for (const net of opts.nets) {
      log(`== conv ${net} ==`);
      nets[net] = await netBench(net, xsAll, ysAll, torchWhyNull ? undefined : torch, tmp, net === 'midsize' ? { rounds: Math.max(2, Math.round(opts.rounds / 2)), perRound: 3, warm: 2 } : opts);
    }
    return { backend: backend.name, backendInfo: backend, torchInfo: torchInfo ?? null, torchWhyNull: torchWhyNull ?? null, learningRate: LR, optimizer: 'SGD (both sides)', nets };
  } finally {
    torch?.close();
    tf.dispose([xsAll, ysAll]);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

export async function convMain(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  const only = args.filter((a): a is ConvNetName => (CONV_NETS as string[]).includes(a));
  const result = await convBench({
    rounds: quick ? 2 : 8,
    perRound: quick ? 3 : 10,
    warm: quick ? 2 : 5,
    backend: (process.env.GRADIENT_LENS_BACKEND as BackendPreference) || 'auto',
    nets: only.length > 0 ? only : CONV_NETS,
  });
  emit(result);
}
