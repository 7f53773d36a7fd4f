// Options run.mjs hands the suite through the extension host's environment (the host inherits
// code-server's): where traces go and which tests to run. Defaults work under test-electron.
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface VscodeTestConfig {
  workDir: string;
  runsDir: string;
  grep?: string;
  /** 'untrusted': the workspace is not trusted; only the untrusted-workspace suite runs. */
  mode?: 'trusted' | 'untrusted';
  /**
   * The test's model files (test/vscode/fixtures of the repository): the extension under test may
   * be an installed .vsix, which carries no tests. Default: beside the extension's own files.
   */
  fixturesDir?: string;
}

let cached: VscodeTestConfig | undefined;

export function testConfig(): VscodeTestConfig {
  if (cached) return cached;
  const file = process.env.GL_VSCODE_TEST_CONFIG;
  if (file) {
    cached = JSON.parse(readFileSync(file, 'utf8')) as VscodeTestConfig;
  } else {
    const workDir = join(tmpdir(), `gradient-lens-vscode-test-${process.pid}`);
    cached = { workDir, runsDir: join(workDir, 'runs') };
  }
  return cached;
}
