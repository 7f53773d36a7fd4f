// Traces a model file through the real runner process, as the CLI does, into a fresh temp folder.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RunnerClient, RunnerError, defaultRunnerPath } from '../../../src/host/runnerClient';
import type { FromRunner } from '../../../src/shared/protocol';
import type { RunError } from '../../../src/shared/traceTypes';

/** The trace folder (the caller removes it), and the run's failure when it failed. */
export async function traceWithRunner(
  file: string,
  backend: string,
  onMessage?: (m: FromRunner) => void,
  wasmThreads?: number | 'auto',
): Promise<{ dir: string; failure?: RunError }> {
  const runner = RunnerClient.spawn({ runnerPath: defaultRunnerPath(), backend, wasmThreads });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gl-run-'));
  let failure: RunError | undefined;
  runner.onMessage((m) => {
    if (m.type === 'failed') failure = m.error;
    onMessage?.(m);
  });
  try {
    await runner.start({ file, outDir: dir, typeCheck: 'off' });
  } catch (e) {
    if (!(e instanceof RunnerError)) throw e;
    failure = e.runError;
  }
  await runner.exited;
  return { dir, failure };
}
