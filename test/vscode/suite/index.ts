// The extension-host test module (the `extensionTestsPath` contract shared by code-server's
// workbench and @vscode/test-electron): `run()` runs the mocha suites and rejects on failure.
// Suites are bundled into this file by esbuild; each is imported after mocha has installed its
// globals (suite, test, suiteSetup...), so their top-level `suite(...)` calls register here.
import Mocha from 'mocha';
import { testConfig } from './testConfig';

const suites = [
  () => import('./commands.test'),
  () => import('./trust.test'),
  () => import('./editor.test'),
  () => import('./run.test'),
  () => import('./compare.test'),
];
/** In an untrusted workspace (run.mjs's second pass) only these run. */
const untrustedSuites = [() => import('./untrusted.test')];

export async function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'tdd', color: false, timeout: 180_000, grep: testConfig().grep });
  mocha.suite.emit('pre-require', globalThis, 'gradient-lens-vscode-suite', mocha);
  for (const load of testConfig().mode === 'untrusted' ? untrustedSuites : suites) await load();
  const failures = await new Promise<number>((resolve) => mocha.run(resolve));
  if (failures > 0) throw new Error(`${failures} extension-host test(s) failed`);
}
