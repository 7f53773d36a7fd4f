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
