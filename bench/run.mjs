// `npm run bench` (after `npm run build`): bundles the benchmarks in bench/src (TypeScript) into
// out/bench/bin/main.js with esbuild, tfjs and the tools external as in the other node bundles,
// then runs them all. Extra arguments are passed on (e.g. `--quick`, or one benchmark's name).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import * as esbuild from 'esbuild';

await esbuild.build({
  entryPoints: { main: 'bench/src/main.ts', lessonChild: 'bench/src/lessonChild.ts' },
  outdir: 'out/bench/bin',
  bundle: true,
  sourcemap: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  logLevel: 'warning',
  external: ['vscode', '@tensorflow/*', 'esbuild', 'playwright-core'],
  alias: { 'gradient-lens': './src/api/index.ts', 'gradient-lens/data': './src/api/data.ts' },
});

// The capture worker the runner starts (CapturePipeline looks for it next to its own bundle).
mkdirSync('out/bench/bin', { recursive: true });
for (const f of ['captureWorker.js', 'captureWorker.js.map']) if (existsSync(`dist/${f}`)) cpSync(`dist/${f}`, `out/bench/bin/${f}`);

const r = spawnSync(process.execPath, ['--enable-source-maps', 'out/bench/bin/main.js', ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
