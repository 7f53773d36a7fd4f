// The VS Code test layer, offline: starts code-server (VS Code 1.100.3), runs the extension-host
// tests (test/vscode/suite, built to out/test/vscode/suite/index.js) in a real extension host
// through headless Chromium (in a trusted and an untrusted workspace), then installs the packaged
// .vsix (gradient-lens.vsix, from `npm run package`) into a fresh server and walks it as a user
// would, in a bare workspace outside the repository (installedWalk.mjs), and stops everything.
// Never hangs: an overall timeout kills the servers' whole process groups.
//
// Env: GL_VSCODE_TIMEOUT_MS (overall, default 600000), GL_VSCODE_SKIP_E2E=1 (no walk),
// GL_VSCODE_KEEP=1 (keep the temp folders), GL_VSCODE_GREP (mocha grep for the extension-host
// tests), GL_VSCODE_VERBOSE=1 (code-server's own log), GL_VSCODE_VSIX=path.vsix (another package
// to walk; default gradient-lens.vsix), GL_VSCODE_ONLY_VSIX=1 (only the walk).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCodeServer } from './codeServer.mjs';
import { walkInstalledExtension } from './installedWalk.mjs';
import { launchBrowser, runExtensionTests } from './workbench.mjs';

const testDir = dirname(fileURLToPath(import.meta.url));
const root = resolve(testDir, '../..');
const testsPath = join(root, 'out/test/vscode/suite/index.js');
const artifactsDir = join(root, 'test/artifacts');
const overallMs = Number(process.env.GL_VSCODE_TIMEOUT_MS ?? 600_000);
const started = Date.now();

function log(line) {
  const t = ((Date.now() - started) / 1000).toFixed(1).padStart(6);
  process.stdout.write(`${t}s ${line}\n`);
}

const vsix = resolve(process.env.GL_VSCODE_VSIX ?? join(root, 'gradient-lens.vsix'));
const onlyVsix = Boolean(process.env.GL_VSCODE_ONLY_VSIX);
for (const built of onlyVsix ? [vsix] : [vsix, join(root, 'dist/extension.js'), testsPath]) {
  if (!existsSync(built)) {
    console.error(`missing ${built}: run \`npm run package\` (it builds too) first`);
    process.exit(1);
  }
}

mkdirSync(join(testDir, '.work'), { recursive: true });
const workDir = mkdtempSync(join(testDir, '.work/run-'));
// What the extension-host tests read: where to put traces, and the options the suite needs.
const testConfig = {
  workDir,
  runsDir: join(workDir, 'runs'),
  grep: process.env.GL_VSCODE_GREP,
  mode: 'trusted',
};
writeFileSync(join(workDir, 'test-config.json'), JSON.stringify(testConfig, null, 2));
// The untrusted pass: the same suite module, told to run only the untrusted-workspace tests.
writeFileSync(join(workDir, 'test-config-untrusted.json'), JSON.stringify({ ...testConfig, mode: 'untrusted' }, null, 2));

// The user's workspace for the walk: an empty folder outside the repository (no node_modules
// above it, nothing of ours near it).
const userWorkspace = mkdtempSync(join(tmpdir(), 'gradient-lens-user-'));
const installedWorkDir = mkdtempSync(join(tmpdir(), 'gradient-lens-vscode-'));
const installedTestDirs = [];
const installedServers = [];

let server;
let untrustedServer;
let installedServer;
let browser;
let cleaning;
async function cleanup() {
  cleaning ??= (async () => {
    await browser?.close().catch(() => {});
    await server?.stop();
    await untrustedServer?.stop();
    await installedServer?.stop();
    for (const s of installedServers) await s.stop();
    if (!process.env.GL_VSCODE_KEEP) {
      rmSync(workDir, { recursive: true, force: true });
      rmSync(userWorkspace, { recursive: true, force: true });
      rmSync(installedWorkDir, { recursive: true, force: true });
      for (const d of installedTestDirs) rmSync(d, { recursive: true, force: true });
    }
  })();
  return cleaning;
}

const overall = setTimeout(async () => {
  log(`FAIL: the VS Code tests took longer than ${overallMs} ms; stopping everything`);
  await cleanup();
  process.exit(1);
}, overallMs);

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, async () => {
    await cleanup();
    process.exit(130);
  });
}

let failed = false;
try {
  browser = await launchBrowser();
  const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
  if (!onlyVsix) {
    server = await startCodeServer({
      testDir,
      workDir,
      log: process.env.GL_VSCODE_VERBOSE ? log : () => {},
      // The extension host inherits the server's environment: the suite finds its options here.
      // A runner busy in user code is reported after 2 s here (10 s by default).
      env: { GL_VSCODE_TEST_CONFIG: join(workDir, 'test-config.json'), GRADIENT_LENS_STALL_MS: '2000' },
      settings: {
        'gradientLens.traceFolder': testConfig.runsDir,
        // Offline: no marketplace queries (they only fail, slowly).
        'extensions.autoUpdate': false,
        'extensions.autoCheckUpdates': false,
        'extensions.ignoreRecommendations': true,
      },
    });
    log(`code-server listening on ${server.origin} (process group ${server.pgid})`);
    const t0 = Date.now();
    const code = await runExtensionTests({ context, server, folder: root, extensionPath: root, testsPath, log, timeoutMs: overallMs });
    log(`extension-host tests: exit code ${code} (${Date.now() - t0} ms)`);
    if (code !== 0) failed = true;
    await server.stop();
    server = undefined;

    // An untrusted workspace: a second server with workspace trust on and a fresh user-data
    // folder, so the repository folder is not trusted; the suite runs its untrusted tests there.
    const t2 = Date.now();
    const untrustedDir = join(workDir, 'untrusted');
    mkdirSync(untrustedDir, { recursive: true });
    untrustedServer = await startCodeServer({
      testDir,
      workDir: untrustedDir,
      workspaceTrust: true,
      log: process.env.GL_VSCODE_VERBOSE ? log : () => {},
      env: { GL_VSCODE_TEST_CONFIG: join(workDir, 'test-config-untrusted.json') },
      settings: {
        'security.workspace.trust.enabled': true,
        'security.workspace.trust.startupPrompt': 'never',
        'gradientLens.traceFolder': testConfig.runsDir,
        'extensions.autoUpdate': false,
        'extensions.autoCheckUpdates': false,
      },
    });
    const untrustedCode = await runExtensionTests({ context, server: untrustedServer, folder: root, extensionPath: root, testsPath, log, timeoutMs: overallMs });
    log(`extension-host tests in an untrusted workspace: exit code ${untrustedCode} (${Date.now() - t2} ms)`);
    if (untrustedCode !== 0) failed = true;
    await untrustedServer.stop();
    untrustedServer = undefined;
  }

  {
    // The product's extension-host tests (commands, hover, CodeLens, trust, runs) against the
    // installed .vsix: the workbench loads the installed folder's files, which carry no tests or
    // fixtures, so the suite reads those from the repository.
    const dir = mkdtempSync(join(tmpdir(), 'gradient-lens-vscode-tests-'));
    installedTestDirs.push(dir);
    const config = join(dir, 'test-config.json');
    writeFileSync(config, JSON.stringify({ ...testConfig, workDir: dir, runsDir: join(dir, 'runs'), fixturesDir: join(testDir, 'fixtures') }, null, 2));
    const t3 = Date.now();
    const testsServer = await startCodeServer({
      testDir,
      workDir: dir,
      install: [vsix],
      log: process.env.GL_VSCODE_VERBOSE ? log : () => {},
      env: { GL_VSCODE_TEST_CONFIG: config },
      settings: { 'gradientLens.traceFolder': join(dir, 'runs'), 'extensions.autoUpdate': false, 'extensions.autoCheckUpdates': false, 'extensions.ignoreRecommendations': true },
    });
    installedServers.push(testsServer);
    const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
    const installedPath = join(dir, 'extensions', `gradient-lens.gradient-lens-${version}`);
    if (!existsSync(join(installedPath, 'package.json'))) throw new Error(`the .vsix did not install to ${installedPath}`);
    const code = await runExtensionTests({ context, server: testsServer, folder: installedPath, extensionPath: installedPath, testsPath, log, timeoutMs: overallMs });
    log(`extension-host tests against the installed .vsix: exit code ${code} (${Date.now() - t3} ms)`);
    if (code !== 0) failed = true;
    await testsServer.stop();
  }

  if (!process.env.GL_VSCODE_SKIP_E2E) {
    // What users get: the .vsix installed into a fresh server, default settings (nothing of
    // Gradient Lens's set), a bare workspace outside the repository.
    // Outside the repository too: an extension installed under it would see the repository's
    // tsconfig.json and node_modules from its lessons (the TypeScript server looks upwards).
    const installedDir = installedWorkDir;
    const t1 = Date.now();
    installedServer = await startCodeServer({
      testDir,
      workDir: installedDir,
      install: [vsix],
      log: process.env.GL_VSCODE_VERBOSE ? log : () => {},
      settings: { 'extensions.autoUpdate': false, 'extensions.autoCheckUpdates': false, 'extensions.ignoreRecommendations': true },
    });
    log(`installed ${vsix} into a fresh code-server (${Date.now() - t1} ms); workspace ${userWorkspace}`);
    try {
      const result = await walkInstalledExtension({ context, server: installedServer, workspace: userWorkspace, extensionPath: root, artifactsDir, log });
      log(`walk of the installed extension: passed (${Date.now() - t1} ms); screenshots: ${result.screenshots.length}`);
    } catch (e) {
      failed = true;
      log(`walk of the installed extension: FAILED (${Date.now() - t1} ms): ${e.stack ?? e}`);
    }
  }
} catch (e) {
  failed = true;
  log(`FAIL: ${e.stack ?? e}`);
} finally {
  clearTimeout(overall);
  await cleanup();
}
log(`VS Code tests ${failed ? 'FAILED' : 'passed'} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.exit(failed ? 1 : 0);
