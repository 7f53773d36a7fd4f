// Runs a model file with stock tfjs in this process, on the cpu backend, the way `node file.js`
// would: bundled (tfjs left to this process's single instance), Math.random seeded as the
// runner seeds it, so it builds the same weights. While it runs, its model.fit / fitDataset
// call is watched: before stock training starts, the gradients of the runner's first batch
// are taken by tfjs autodiff of the model's own loss; stock training then runs to its end, a
// callback recording how many batches each epoch ran and what each epoch's logs held.
import * as path from 'node:path';
import Module from 'node:module';
import * as esbuild from 'esbuild';
import * as tf from '@tensorflow/tfjs';
import { batchSource } from '../../../src/runner/batches';
import { oneTensor } from '../../../src/runner/exampleTensors';
import { seedMathRandom } from '../../../src/runner/seededRandom';
import { paramName } from '../../../src/runner/tracer/layerInfo';
import { useBackend } from './tracerHarness';

type Fit = tf.LayersModel['fit'];
type FitDataset = tf.LayersModel['fitDataset'];
type LossFn = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor;

/** The first training step, as tfjs autodiff computes it. */
export interface FirstStep {
  loss: number;
  /** The batch's first input, flattened. */
  input: Float32Array;
  /** By `${layer index}/${param}`, layers counted as the trace counts them (no input layers). */
  weights: Map<string, Float32Array>;
  grads: Map<string, Float32Array>;
  layerTypes: string[];
}

export interface StockRun {
  batchesPerEpoch: number[];
  /** The keys of each epoch's end logs, sorted. */
  epochLogKeys: string[][];
  /** What the file printed with console.log until training ended. */
  printed: string[];
  firstStep: FirstStep;
}

interface Watch {
  first?: Promise<FirstStep>;
  /** Settles with what was printed when training ended, before the file's own code after fit runs. */
  trained?: Promise<string[]>;
}

/** A model's inputs as fit takes them (a tensor, an array, or an object keyed by input name), in the model's order. */
function tensorsOf(x: unknown, inputNames: string[]): tf.Tensor[] {
  if (x instanceof tf.Tensor) return [x];
  if (Array.isArray(x)) return x as tf.Tensor[];
  return inputNames.map((name) => (x as Record<string, tf.Tensor>)[name]);
}

/** The model's compiled loss (a Sequential compiles an inner model that holds it). */
function lossOf(model: tf.LayersModel): LossFn {
  const inner = (model as unknown as { model?: tf.LayersModel }).model ?? model;
  return inner.lossFunctions[0] as LossFn;
}

function firstStep(model: tf.LayersModel, xs: tf.Tensor[], ys: tf.Tensor): FirstStep {
  const layers = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
  const named = layers.flatMap((layer, i) => layer.trainableWeights.map((w) => ({ key: `${i}/${paramName(w)}`, variable: w.read() as tf.Variable })));
  const input = xs.length === 1 ? xs[0] : xs;
  const { value, grads } = tf.variableGrads(() => tf.mean(lossOf(model)(ys, model.apply(input, { training: true }) as tf.Tensor)) as tf.Scalar, named.map((n) => n.variable));
  const step: FirstStep = {
    loss: value.dataSync()[0],
    input: tf.cast(xs[0], 'float32').dataSync() as Float32Array,
    weights: new Map(named.map((n) => [n.key, n.variable.dataSync() as Float32Array])),
    grads: new Map(named.map((n) => [n.key, grads[n.variable.name].dataSync() as Float32Array])),
    layerTypes: layers.map((l) => l.getClassName()),
  };
  tf.dispose([value, ...Object.values(grads)]);
  return step;
}

/** The runner's first batch of a model.fit: which examples, from its own batching code. */
function firstFitBatch(x: unknown, y: tf.Tensor, args: tf.ModelFitArgs, seed: number, inputNames: string[]): { xs: tf.Tensor[]; ys: tf.Tensor } {
  const inputs = tensorsOf(x, inputNames);
  const n = y.shape[0];
  const split = args.validationData === undefined && args.validationSplit ? Math.floor(n * (1 - args.validationSplit)) : n;
  const order = tf.range(0, split, 1, 'int32');
  const picked = batchSource({ train: { xs: order, ys: order } }, args.batchSize ?? 32, seed, { partialBatches: true, shuffle: args.shuffle ?? true }).batch(0).xs;
  const rows = oneTensor(picked, 'inputs');
  return { xs: inputs.map((t) => tf.gather(t, rows)), ys: tf.gather(y, rows) };
}

function asCallbacks(callbacks: unknown): tf.CustomCallback[] {
  const list = callbacks === undefined || callbacks === null ? [] : Array.isArray(callbacks) ? callbacks : [callbacks];
  // Stock fit takes an array of callback objects or of plain `{ onEpochEnd, … }`, not a mix.
  return list.map((c) => (typeof (c as tf.CustomCallback).setParams === 'function' ? c : new tf.CustomCallback(c as tf.CustomCallbackArgs)));
}

function recorder(batches: number[], keys: string[][]): tf.CustomCallback {
  return new tf.CustomCallback({
    onEpochBegin: () => {
      batches.push(0);
    },
    onBatchEnd: () => {
      batches[batches.length - 1]++;
    },
    onEpochEnd: (_epoch, logs) => {
      keys.push(Object.keys(logs ?? {}).sort());
    },
  });
}

/** Replaces fit and fitDataset while the file runs; returns the function that puts them back. */
function watchFit(watch: Watch, seed: number, batches: number[], keys: string[][], printed: string[]): () => void {
  const targets = [tf.LayersModel.prototype, tf.Sequential.prototype] as { fit: Fit; fitDataset: FitDataset }[];
  const originals = targets.map((t) => ({ fit: t.fit, fitDataset: t.fitDataset }));
  // A Sequential's fit calls its inner model's: only the outer call is the user's.
  let inside = false;
  targets.forEach((target, i) => {
    target.fit = function (this: tf.LayersModel, x, y, args = {}) {
      if (inside) return originals[i].fit.call(this, x, y, args);
      const { xs, ys } = firstFitBatch(x, y as tf.Tensor, args, seed, this.inputNames);
      watch.first = Promise.resolve(firstStep(this, xs, ys));
      inside = true;
      try {
        const training = originals[i].fit.call(this, x, y, { ...args, callbacks: [...asCallbacks(args.callbacks), recorder(batches, keys)] });
        // Registered before the file awaits the same promise, so it runs first.
        watch.trained = training.then(() => [...printed]);
        return training;
      } finally {
        inside = false;
      }
    } as Fit;
    target.fitDataset = function (this: tf.LayersModel, dataset, args) {
      if (inside) return originals[i].fitDataset.call(this, dataset, args);
      const model = this;
      const first = (async () => {
        const batch = (await (await dataset.iterator()).next()).value as { xs: unknown; ys: tf.Tensor };
        return firstStep(model, tensorsOf(batch.xs, model.inputNames), batch.ys);
      })();
      watch.first = first;
      const training = first.then(() => {
        inside = true;
        try {
          return originals[i].fitDataset.call(model, dataset, { ...args, callbacks: [...asCallbacks(args.callbacks), recorder(batches, keys)] });
        } finally {
          inside = false;
        }
      });
      watch.trained = training.then(() => [...printed]);
      return training;
    } as FitDataset;
  });
  return () =>
    targets.forEach((t, i) => {
      t.fit = originals[i].fit;
      t.fitDataset = originals[i].fitDataset;
    });
}

/** Runs `file` with stock tfjs on cpu, Math.random seeded with `seed`, to the end of its training. */
export async function stockRun(file: string, seed: number): Promise<StockRun> {
  const bundle = await esbuild.build({
    entryPoints: [file],
    bundle: true,
    write: false,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    logLevel: 'silent',
    external: ['@tensorflow/*'],
  });
  const previousBackend = tf.getBackend();
  await useBackend('cpu');
  const random = Math.random;
  const log = console.log;
  const printed: string[] = [];
  const batches: number[] = [];
  const keys: string[][] = [];
  const watch: Watch = {};
  seedMathRandom(seed);
  console.log = (...args: unknown[]) => {
    printed.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
  };
  const restoreFit = watchFit(watch, seed, batches, keys, printed);
  try {
    const filename = file.replace(/\.ts$/, '.stock.js');
    const mod = new Module(filename);
    mod.filename = filename;
    mod.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(path.dirname(file));
    (mod as unknown as { _compile(code: string, filename: string): void })._compile(bundle.outputFiles[0].text, filename);
    if (!watch.trained || !watch.first) throw new Error(`${file} called neither model.fit nor model.fitDataset`);
    const first = await watch.first;
    // What the file prints after fit resolves, the runner never runs.
    const printedInTraining = await watch.trained;
    return { batchesPerEpoch: batches, epochLogKeys: keys, printed: printedInTraining, firstStep: first };
  } finally {
    restoreFit();
    console.log = log;
    Math.random = random;
    if (previousBackend) await tf.setBackend(previousBackend);
  }
}
