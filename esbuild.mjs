// One build for every bundle: the extension (node, `vscode` external), the runner and the CLI
// (node), the webview (browser), and the tests. `tsc --noEmit` type-checks separately.
// Flags: --watch rebuilds on change, --production minifies.
import * as esbuild from 'esbuild';
import { existsSync, readdirSync, cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

// Loaded from node_modules at run time: tfjs and its backends (native and wasm files), esbuild
// (it bundles the user's model), and the test tools.
const nodeExternals = [
  'vscode',
  '@tensorflow/*',
  'esbuild',
  'mocha',
  'playwright-core',
  '@vscode/test-electron',
];

const common = {
  bundle: true,
  sourcemap: true,
  minify: production,
  logLevel: 'warning',
  alias: { 'gradient-lens': './src/api/index.ts', 'gradient-lens/data': './src/api/data.ts' },
};

const node = { ...common, platform: 'node', target: 'node20', format: 'cjs', external: nodeExternals };

function testEntries(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true })
    .filter((f) => typeof f === 'string' && f.endsWith('.test.ts'))
    .map((f) => join(dir, f));
}

const builds = [
  { ...node, entryPoints: { extension: 'src/extension/extension.ts' }, outdir: 'dist' },
  { ...node, entryPoints: { runner: 'src/runner/main.ts' }, outdir: 'dist' },
  { ...node, entryPoints: { captureWorker: 'src/runner/capture/captureWorker.ts' }, outdir: 'dist' },
  { ...node, entryPoints: { parentWatchWorker: 'src/runner/parentWatchWorker.ts' }, outdir: 'dist' },
  { ...node, entryPoints: { typeCheckWorker: 'src/runner/typeCheck/typeCheckWorker.ts' }, outdir: 'dist', external: [...nodeExternals, 'typescript'] },
  { ...node, entryPoints: { cli: 'src/cli/main.ts' }, outdir: 'dist', banner: { js: '#!/usr/bin/env node' } },
  {
    ...common,
    platform: 'browser',
    target: 'es2022',
    format: 'esm',
    entryPoints: { webview: 'webview/main.ts' },
    outdir: 'dist',
  },
  { ...node, entryPoints: testEntries('test/unit'), outdir: 'out/test/unit', outbase: 'test/unit' },
  { ...node, entryPoints: testEntries('test/webview'), outdir: 'out/test/webview', outbase: 'test/webview' },
  { ...node, entryPoints: ['test/vscode/suite/index.ts'], outdir: 'out/test/vscode/suite' },
].filter((b) => {
  const entries = Array.isArray(b.entryPoints) ? b.entryPoints : Object.values(b.entryPoints);
  return entries.length > 0 && entries.every((e) => existsSync(e));
});

// The webview's web components ship as one file; the panel loads it as a nonce'd module script.
function copyWebviewAssets() {
  mkdirSync('dist/media', { recursive: true });
  const elements = 'node_modules/@vscode-elements/elements/dist/bundled.js';
  if (existsSync(elements)) cpSync(elements, 'dist/media/vscode-elements.js');
  const codicons = 'node_modules/@vscode/codicons/dist';
  for (const f of ['codicon.css', 'codicon.ttf']) {
    if (existsSync(join(codicons, f))) cpSync(join(codicons, f), join('dist/media', f));
  }
}

copyWebviewAssets();
if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
  console.log('watching…');
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
