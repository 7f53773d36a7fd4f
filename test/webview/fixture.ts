// The recorded trace the webview tests replay: a real run of the seed model (lesson 1, 30
// steps). It is committed when small; otherwise it is recorded here with the CLI, once.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from './harnessPage';

export const SEED_MODEL = 'samples/01-what-is-a-neural-network/model.ts';

export function seedRunDir(): string {
  const override = process.env.GRADIENT_LENS_WEBVIEW_FIXTURE;
  if (override) return path.resolve(override);
  const committed = path.join(ROOT, 'test/webview/fixtures/seed-run');
  if (fs.existsSync(path.join(committed, 'meta.json'))) return committed;
  const recorded = path.join(ROOT, 'out/test/webview/seed-run');
  const cli = path.join(ROOT, 'dist/cli.js');
  const end = path.join(recorded, 'end.json');
  // Recorded by the engine that was built last: a trace older than dist/cli.js is re-recorded.
  if (fs.existsSync(end) && (!fs.existsSync(cli) || fs.statSync(end).mtimeMs >= fs.statSync(cli).mtimeMs)) return recorded;
  if (!fs.existsSync(cli)) throw new Error(`no recorded trace and no ${cli}: run npm run build first`);
  fs.rmSync(recorded, { recursive: true, force: true });
  const r = spawnSync(process.execPath, [cli, 'trace', SEED_MODEL, '--steps', '30', '--out', recorded], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`recording the seed run failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return recorded;
}

export const TINY_MODEL = 'test/unit/fixtures/tinyModel.ts';

export interface EditedRuns {
  /** The model file all three runs are of (edited between runs, as a user would). */
  file: string;
  /** The first run. */
  before: string;
  /** The rerun after one initialiser changed (the output layer's kernel: heNormal). */
  edited: string;
  /** A rerun after a layer was inserted between the two (the layer lists differ). */
  inserted: string;
}

/** The fixture's text with its output layer's initialiser changed, or with a layer inserted. */
export function editModel(source: string, edit: 'initialiser' | 'insertLayer'): string {
  const line = "units: 3, activation: 'softmax'";
  if (!source.includes(line)) throw new Error(`${TINY_MODEL} no longer has the line the compare tests edit (${line})`);
  return edit === 'initialiser'
    ? source.replace(line, `${line}, kernelInitializer: 'heNormal'`)
    : source.replace(`tf.layers.dense({ ${line} })`, `tf.layers.dense({ units: 5, activation: 'tanh' }),\n    tf.layers.dense({ ${line} })`);
}

/**
 * Three short runs of one model file, edited between them (on cpu, 4 steps each), recorded with
 * the CLI once per build of the engine, like the seed run.
 */
export function editedRuns(): EditedRuns {
  const root = path.join(ROOT, 'out/test/webview/compare-runs');
  const file = path.join(root, 'model.ts');
  const runs: EditedRuns = { file, before: path.join(root, 'before'), edited: path.join(root, 'edited'), inserted: path.join(root, 'inserted') };
  const cli = path.join(ROOT, 'dist/cli.js');
  const done = path.join(runs.inserted, 'end.json');
  if (fs.existsSync(done) && fs.statSync(done).mtimeMs >= fs.statSync(cli).mtimeMs) return runs;
  fs.rmSync(root, { recursive: true, force: true });
  fs.mkdirSync(root, { recursive: true });
  const source = fs.readFileSync(path.join(ROOT, TINY_MODEL), 'utf8');
  const trace = (text: string, out: string) => {
    fs.writeFileSync(file, text);
    const r = spawnSync(process.execPath, [cli, 'trace', file, '--steps', '4', '--out', out, '--backend', 'cpu', '--quiet', '--no-typecheck'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    if (r.status !== 0) throw new Error(`recording ${out} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  };
  trace(source, runs.before);
  trace(editModel(source, 'initialiser'), runs.edited);
  trace(editModel(source, 'insertLayer'), runs.inserted);
  return runs;
}
