// The same extension-host tests through @vscode/test-electron, for machines that can download
// VS Code (it fetches a build from update.code.visualstudio.com). CI runs the offline path
// (run.mjs, code-server) instead. The end-to-end webview check needs a browser page and is
// run.mjs's only.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runTests } from '@vscode/test-electron';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const workDir = mkdtempSync(join(tmpdir(), 'gradient-lens-electron-'));
const config = { workDir, runsDir: join(workDir, 'runs'), grep: process.env.GL_VSCODE_GREP };
mkdirSync(config.runsDir, { recursive: true });
writeFileSync(join(workDir, 'test-config.json'), JSON.stringify(config));
const userData = join(workDir, 'user-data');
mkdirSync(join(userData, 'User'), { recursive: true });
writeFileSync(
  join(userData, 'User/settings.json'),
  JSON.stringify({ 'workbench.startupEditor': 'none', 'gradientLens.traceFolder': config.runsDir }),
);

try {
  await runTests({
    version: '1.100.3',
    extensionDevelopmentPath: root,
    extensionTestsPath: join(root, 'out/test/vscode/suite/index.js'),
    launchArgs: [root, '--disable-extensions', '--disable-workspace-trust', `--user-data-dir=${userData}`],
    extensionTestsEnv: { GL_VSCODE_TEST_CONFIG: join(workDir, 'test-config.json') },
  });
} catch (e) {
  console.error(`extension-host tests failed: ${e}`);
  process.exit(1);
}
