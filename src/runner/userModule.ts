// Loads the user's TypeScript model file: bundles it with esbuild in memory (inline source maps,
// so stacks point into their .ts), resolves its imports of tfjs and 'gradient-lens' to this
// process's single instances, runs it, and returns the TrainingSpec it declared.
import * as fs from 'node:fs';
import * as path from 'node:path';
import Module from 'node:module';
import * as esbuild from 'esbuild';
import * as tf from '@tensorflow/tfjs';
import * as api from '../api/index';
import * as data from '../api/data';
import type { TrainingSpec } from '../api/index';
import { LocatedError, userFrame } from './runError';
import { seedMathRandom } from './seededRandom';
import { LayerLocations, withLayerLocations } from './layerLocations';
import { interceptFit } from './fitInterception';
import { UserFailures } from './userFailures';

const HOST_MODULES = [
  '@tensorflow/tfjs',
  '@tensorflow/tfjs-node',
  '@tensorflow/tfjs-node-gpu',
  '@tensorflow/tfjs-core',
  '@tensorflow/tfjs-layers',
  'gradient-lens',
  'gradient-lens/data',
];
const HOST_GLOBAL = '__gradientLensHost';

export interface UserFile {
  file: string;
  /** The bundled JavaScript, with an inline source map. */
  code: string;
  /** The user's own source files in the bundle (absolute), for locating stack frames. */
  sources: Set<string>;
}

export interface LoadedSpec {
  spec: TrainingSpec;
  seed: number;
  locations: LayerLocations;
  /** Rejections in the user's async code, from load on: reported at the next step boundary. */
  failures: UserFailures;
}

/**
 * Starts esbuild's service process ahead of the first bundle, so that its start overlaps the
 * runner's own (the first build would otherwise wait for it). Idle, it waits on its pipe (10 ms
 * of CPU in 10 s, measured), and it exits once the runner is gone, killed or not. When it cannot
 * start, the first build fails as it would have.
 */
export function startBundler(): void {
  try {
    esbuild.initialize({}).catch(() => undefined);
  } catch {
    // Reported by bundleUserFile, where the user sees it.
  }
}

/** Bundles the file; a syntax error becomes a LocatedError at the user's line and column. */
export async function bundleUserFile(file: string): Promise<UserFile> {
  const absolute = path.resolve(file);
  let result: esbuild.BuildResult & { outputFiles: esbuild.OutputFile[]; metafile: esbuild.Metafile };
  try {
    result = await esbuild.build({
      entryPoints: [absolute],
      bundle: true,
      write: false,
      metafile: true,
      format: 'cjs',
      platform: 'node',
      target: 'node20',
      sourcemap: 'inline',
      sourcesContent: false,
      logLevel: 'silent',
      outfile: absolute + '.gradient-lens.js',
      absWorkingDir: path.dirname(absolute),
      // Other packages the user imports load from their own node_modules at run time.
      packages: 'external',
      plugins: [hostModulesPlugin()],
    });
  } catch (e) {
    const failure = e as esbuild.BuildFailure;
    const first = failure.errors?.[0];
    if (!first) throw e;
    const loc = first.location;
    throw new LocatedError({
      kind: 'syntax',
      message: first.text,
      location: loc
        ? { file: path.resolve(path.dirname(absolute), loc.file), line: loc.line, column: loc.column + 1 }
        : undefined,
    });
  }
  const sources = new Set(
    Object.keys(result.metafile.inputs)
      .filter((f) => !f.startsWith('gradient-lens-host:'))
      .map((f) => path.resolve(path.dirname(absolute), f)),
  );
  sources.add(absolute);
  return { file: absolute, code: result.outputFiles[0].text, sources };
}

function hostModulesPlugin(): esbuild.Plugin {
  return {
    name: 'gradient-lens-host',
    setup(build) {
      const filter = new RegExp(`^(${HOST_MODULES.map((m) => m.replace(/[/.-]/g, '\\$&')).join('|')})$`);
      build.onResolve({ filter }, (args) => ({ path: args.path, namespace: 'gradient-lens-host' }));
      build.onLoad({ filter: /.*/, namespace: 'gradient-lens-host' }, (args) => ({
        contents: `module.exports = globalThis.${HOST_GLOBAL}[${JSON.stringify(args.path)}];`,
        loader: 'js',
      }));
    },
  };
}

/** A literal `seed: 7` in the file: read before it runs, so it runs once, with that seed. */
export function literalSeed(source: string): number | undefined {
  const found = /\bseed\s*:\s*(\d+)\b/.exec(source);
  return found ? Number(found[1]) : undefined;
}

/**
 * Runs the bundle with Math.random seeded, so weight initialisation is reproducible. The seed
 * is `seedOverride`, else the file's literal `seed:`, else the default. When the spec then
 * declares another seed (computed, not literal), the file runs again with it, after freeing
 * the first run's variables (named variables would clash) and model.
 */
export async function evaluateUserFile(user: UserFile, seedOverride?: number, defaultSeed = 42): Promise<LoadedSpec> {
  const seed = seedOverride ?? literalSeed(fs.readFileSync(user.file, 'utf8')) ?? defaultSeed;
  const first = await runOnce(user, seed);
  if (seedOverride !== undefined || first.spec.seed === undefined || first.spec.seed === seed) return first;
  disposeSpec(first.spec);
  first.failures.dispose();
  tf.disposeVariables();
  return runOnce(user, first.spec.seed);
}

/** How long a file may take after it ran to declare its training (an async main calling fit). */
const DECLARE_WAIT_MS = 1000;

async function declaredSpec(failures: UserFailures): Promise<TrainingSpec | undefined> {
  const deadline = Date.now() + DECLARE_WAIT_MS;
  for (;;) {
    const spec = api.takeRegisteredSpec();
    if (spec || failures.any || Date.now() > deadline) return spec;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function runOnce(user: UserFile, seed: number): Promise<LoadedSpec> {
  seedMathRandom(seed);
  const isUserFile = (f: string) => user.sources.has(f);
  const locations = new LayerLocations(isUserFile);
  const userTf = withLayerLocations(tf, locations);
  (globalThis as Record<string, unknown>)[HOST_GLOBAL] = {
    '@tensorflow/tfjs': userTf,
    '@tensorflow/tfjs-node': userTf,
    '@tensorflow/tfjs-node-gpu': userTf,
    '@tensorflow/tfjs-core': userTf,
    '@tensorflow/tfjs-layers': userTf,
    'gradient-lens': api,
    'gradient-lens/data': data,
  };
  api.takeRegisteredSpec();
  const filename = user.file + '.gradient-lens.js';
  const mod = new Module(filename);
  mod.filename = filename;
  mod.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(path.dirname(user.file));
  // The previous load's watcher (the extension's model-info loads reuse the process) goes.
  currentFailures?.dispose();
  const failures = (currentFailures = new UserFailures(isUserFile));
  const interception = interceptFit(locations, (e) => failures.record(e));
  let spec: TrainingSpec | undefined;
  // Before the bundle is compiled (Node reads its inline map then): its stacks point into the user's .ts.
  process.setSourceMapsEnabled(true);
  try {
    try {
      (mod as unknown as { _compile(code: string, filename: string): void })._compile(user.code, filename);
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      throw new LocatedError({ kind: 'load', message: err.message, location: userFrame(err.stack, isUserFile), stack: err.stack });
    }
    const exported = (mod.exports as { default?: TrainingSpec }).default;
    spec = api.takeRegisteredSpec() ?? exported ?? (await declaredSpec(failures));
    // Let rejections of the file's async code settle (a refused fit in an async main).
    await new Promise((resolve) => setImmediate(resolve));
    failures.throwIfAny();
  } finally {
    interception.restore();
  }
  const ownLoop = interception.ownLoop;
  if (!spec && ownLoop) {
    throw new LocatedError({
      kind: 'contract',
      message: 'The file trains in a loop of its own (optimizer.minimize, here), which is not traced: declare the training with export default defineTraining({ model, data, loss, optimizer }) from "gradient-lens" (hand-written stages marked with tap() are traced too), or compile a model and call model.fit(xs, ys, { epochs, batchSize }).',
      location: ownLoop,
    });
  }
  if (!spec) {
    throw new LocatedError({
      kind: 'contract',
      message: 'The file declares no training: export default defineTraining({ model, data, loss, optimizer }) from "gradient-lens", or compile the model and call model.fit(xs, ys, { epochs, batchSize }).',
      location: { file: user.file, line: 1, column: 1 },
    });
  }
  return { spec, seed, locations, failures };
}

let currentFailures: UserFailures | undefined;

/** Frees the tensors a discarded spec holds (its model's weights; data may be shared, so kept). */
export function disposeSpec(spec: TrainingSpec): void {
  const model = spec.model as tf.LayersModel;
  if (!api.isTappedModel(model) && typeof model.dispose === 'function') {
    try {
      model.dispose();
    } catch {
      // Already disposed, or never built: nothing to free.
    }
  }
}
