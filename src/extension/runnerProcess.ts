// Starts runner processes for the extension (dist/runner.js beside dist/extension.js) through
// the engine's RunnerClient, with the runner's own output going to the log channel.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { RunnerClient } from '../host/runnerClient';
import { logTypeDiagnostics } from './outputLog';
import type { RunnerPort } from './runnerPort';
import type { RunnerKind } from './settings';

export interface SpawnOptions {
  extensionPath: string;
  kind: RunnerKind;
  /** The model's folder: the runner resolves relative paths the user's file opens from here. */
  cwd?: string;
  log: vscode.LogOutputChannel;
}

/** Every runner process this extension host started and that has not exited yet. */
const live = new Set<RunnerClient>();

/** Kills every runner still alive, synchronously: the last line of deactivate(). */
export function killAllRunners(): void {
  for (const client of live) client.dispose();
  live.clear();
}

/** Spawns a runner and waits for its hello (tfjs loaded, backend chosen). */
export async function spawnRunner(options: SpawnOptions): Promise<RunnerPort> {
  const client = RunnerClient.spawn({
    runnerPath: path.join(options.extensionPath, 'dist', 'runner.js'),
    backend: options.kind.backend,
    wasmThreads: options.kind.wasmThreads,
    cwd: options.cwd,
    onOutput: (text) => {
      for (const line of text.split('\n')) if (line.trim()) options.log.info(`[runner] ${line}`);
    },
  });
  // A runner busy in the user's code says so in the log (the panel's own notice is the session's to show).
  client.onStall((notice) => options.log.warn(`[runner] ${notice.message}; Gradient Lens: Stop ends it`));
  live.add(client);
  void client.exited.then(() => live.delete(client));
  try {
    const hello = await client.ready;
    options.log.info(`runner ${hello.pid} up: backend ${hello.backend.name} (${hello.backend.reason})`);
  } catch (e) {
    client.dispose();
    throw e;
  }
  return adapt(client, options.log);
}

function adapt(client: RunnerClient, log: vscode.LogOutputChannel): RunnerPort {
  const offLog = client.onMessage((m) => {
    if (m.type === 'log') log[m.level === 'info' ? 'info' : m.level](`[model] ${m.text}`);
    else if (m.type === 'typeDiagnostics') logTypeDiagnostics(log, m.diagnostics);
  });
  return {
    get pid() {
      return client.alive ? client.pid : undefined;
    },
    exited: client.exited,
    onMessage: (listener) => new vscode.Disposable(client.onMessage(listener)),
    onStall: (listener) => new vscode.Disposable(client.onStall(listener)),
    // The user's code runs in its own folder, as it would with `node` there.
    load: (file) => client.load(file, undefined, path.dirname(file)),
    start: (request) => client.start({ cwd: path.dirname(request.file), ...request }),
    control: (action, toStep) => client.control(action, toStep),
    stop: async () => {
      await client.stop();
      offLog();
    },
    dispose: () => {
      offLog();
      client.dispose();
    },
  };
}
