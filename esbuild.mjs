// One build for every bundle: the extension (node, `vscode` external), the runner and the CLI
// (node), the webview (browser), and the tests. `tsc --noEmit` type-checks separately.
// Flags: --watch rebuilds on change, --production minifies.
import * as esbuild from 'esbuild';
import { existsSync, readdirSync, cpSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

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

const DEFERRED_PACKAGES = fileURLToPath(new URL('./src/runner/deferredPackages.ts', import.meta.url));

/**
 * tfjs is a CommonJS package loaded at run time, and esbuild gives every file that imports it
 * (`import * as tf`) a namespace object of its own, built by copying each of its ~500 exports:
 * 34 copies in the runner, ~30 ms of every start. Here every such import resolves to one module
 * that re-exports the package, so a bundle builds that namespace once and shares it.
 */
const oneTfjsNamespace = {
  name: 'one-tfjs-namespace',
  setup(build) {
    build.onResolve({ filter: /^@tensorflow\/tfjs$/ }, (args) =>
      args.namespace === 'tfjs-namespace' ? { path: args.path, external: true } : { path: args.path, namespace: 'tfjs-namespace' },
    );
    // First the stand-ins for the packages tfjs loads but training never uses (deferredPackages.ts).
    build.onLoad({ filter: /.*/, namespace: 'tfjs-namespace' }, (args) => ({
      contents: `import ${JSON.stringify(DEFERRED_PACKAGES)};\nexport * from ${JSON.stringify(args.path)};`,
      resolveDir: process.cwd(),
      loader: 'js',
    }));
  },
};

const common = {
  bundle: true,
  sourcemap: true,
  minify: production,
  logLevel: 'warning',
  alias: { 'gradient-lens': './src/api/index.ts', 'gradient-lens/data': './src/api/data.ts' },
};

const node = { ...common, platform: 'node', target: 'node20', format: 'cjs', external: nodeExternals, plugins: [oneTfjsNamespace] };

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
  // Emscripten's pthread script and module from tfjs-backend-wasm's wasm-out/, bundled in (the
  // .vsix ships only the package's Node entry point): see src/runner/wasmThreads.ts.
  {
    ...node,
    entryPoints: { wasmThreadWorker: 'src/runner/wasmThreadWorker.ts' },
    outdir: 'dist',
    external: nodeExternals.filter((e) => e !== '@tensorflow/*'),
  },
  { ...node, entryPoints: { typeCheckWorker: 'src/runner/typeCheck/typeCheckWorker.ts' }, outdir: 'dist', external: [...nodeExternals, 'typescript'] },
  { ...node, entryPoints: { cli: 'src/cli/main.ts' }, outdir: 'dist', banner: { js: '#!/usr/bin/env node' } },
  // The TypeScript server plugin, a package of its own (see writeTsPluginPackage).
  { ...node, entryPoints: { index: 'src/tsPlugin/main.ts' }, outdir: 'dist/tsPlugin', sourcemap: false, external: [...nodeExternals, 'typescript'] },
  {
    ...common,
    platform: 'browser',
    target: 'es2022',
    format: 'esm',
    entryPoints: { webview: 'webview/main.ts' },
    outdir: 'dist',
  },
  { ...node, entryPoints: testEntries('test/unit'), outdir: 'out/test/unit', outbase: 'test/unit', external: [...nodeExternals, 'typescript'] },
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

/**
 * The plugin's package.json. package.json depends on `file:dist/tsPlugin`, so npm links it as
 * node_modules/gradient-lens-ts-plugin and vsce packages it there (from `npm list --production`):
 * where VS Code's TypeScript server looks for a contributed plugin.
 */
function writeTsPluginPackage() {
  mkdirSync('dist/tsPlugin', { recursive: true });
  const manifest = { name: 'gradient-lens-ts-plugin', version: '0.1.0', private: true, main: 'index.js', license: 'MIT' };
  writeFileSync('dist/tsPlugin/package.json', `${JSON.stringify(manifest, null, 2)}\n`);
}

/**
 * Declarations of the `gradient-lens` API (src/api, and the shared types it names) into
 * dist/types: what the editor (through the plugin) and the runner's type check give a model file
 * that imports 'gradient-lens' or 'gradient-lens/data' from an installed extension. Only relative
 * imports are followed: the declarations import tfjs by name, and loading tfjs's own ~600
 * declaration files would cost seconds per build. Skipped when dist/types is newer than its inputs.
 */
function emitApiTypes() {
  const roots = ['src/api/index.ts', 'src/api/data.ts'];
  const stamp = 'dist/types/api/index.d.ts';
  const inputs = ['src/api', 'src/shared'].flatMap((d) => readdirSync(d).map((f) => join(d, f)));
  if (existsSync(stamp) && inputs.every((f) => statSync(f).mtimeMs <= statSync(stamp).mtimeMs)) return;
  const options = {
    declaration: true,
    emitDeclarationOnly: true,
    outDir: 'dist/types',
    rootDir: 'src',
    strict: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    esModuleInterop: true,
    types: [],
    lib: ['lib.es2022.d.ts'],
  };
  const host = ts.createCompilerHost(options);
  host.resolveModuleNameLiterals = (literals, containingFile, redirected, opts) =>
    literals.map((l) =>
      l.text.startsWith('.') ? ts.resolveModuleName(l.text, containingFile, opts, host, undefined, redirected) : { resolvedModule: undefined },
    );
  const result = ts.createProgram(roots, options, host).emit();
  if (result.emitSkipped) throw new Error(`declarations of src/api: ${ts.formatDiagnostics(result.diagnostics, host)}`);
}

copyWebviewAssets();
writeTsPluginPackage();
emitApiTypes();
if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
  console.log('watching…');
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
