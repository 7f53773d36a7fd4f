// Shared by the extension-host suites: the extension under test (activated, with its API), its
// manifest, the seed model, and waiting on conditions (never on time alone).
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { GradientLensApi } from '../../../src/extension/extension';
import type { RunSession, SessionChange } from '../../../src/extension/runSession';
import { testConfig } from './testConfig';

export const EXTENSION_ID = 'gradient-lens.gradient-lens';

interface Manifest {
  contributes: { commands: { command: string; title: string; category?: string }[] };
  capabilities: { untrustedWorkspaces: { supported: boolean | 'limited' } };
  extensionKind: string[];
}

export function extension(): vscode.Extension<GradientLensApi> {
  const ext = vscode.extensions.getExtension<GradientLensApi>(EXTENSION_ID);
  if (!ext) throw new Error(`${EXTENSION_ID} is not loaded in this extension host`);
  return ext;
}

/** Activates the extension: until then getCommands() does not list its commands. */
export async function activateExtension(): Promise<GradientLensApi> {
  return extension().activate();
}

export function manifest(): Manifest {
  return extension().packageJSON as Manifest;
}

export function repoPath(...parts: string[]): string {
  return path.join(extension().extensionPath, ...parts);
}

/** A model file of the tests' own (test/vscode/fixtures). */
export function fixture(name: string): vscode.Uri {
  return vscode.Uri.file(path.join(testConfig().fixturesDir ?? repoPath('test', 'vscode', 'fixtures'), name));
}

/** A model file of the unit tests' (test/unit/fixtures), for a case both layers exercise. */
export function unitFixture(name: string): vscode.Uri {
  return vscode.Uri.file(path.resolve(fixture('.').fsPath, '..', '..', 'unit', 'fixtures', name));
}

/** The seed model: lesson 1's 784 → 256 → 128 → 10 MLP (235,146 parameters). */
export function seedModel(): vscode.Uri {
  return vscode.Uri.file(repoPath('samples', '01-what-is-a-neural-network', 'model.ts'));
}

/** 0-based line of the first line of `document` matching `pattern`. */
export function lineOf(document: vscode.TextDocument, pattern: RegExp): number {
  for (let i = 0; i < document.lineCount; i++) if (pattern.test(document.lineAt(i).text)) return i;
  throw new Error(`no line matches ${pattern} in ${document.uri.fsPath}`);
}

/**
 * Resolves when `condition` holds: checked now, on every `event`, and every 50 ms (conditions on
 * processes and files have no event). Rejects after `timeoutMs` saying what it waited for.
 */
export function waitFor<T>(
  what: string,
  condition: () => T | undefined | false | Promise<T | undefined | false>,
  options: { event?: vscode.Event<unknown>; timeoutMs?: number } = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const subscription = options.event?.(() => void check());
    const interval = setInterval(() => void check(), 50);
    const timer = setTimeout(() => finish(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
    function finish(error?: Error, value?: T): void {
      if (done) return;
      done = true;
      clearInterval(interval);
      clearTimeout(timer);
      subscription?.dispose();
      if (error) reject(error);
      else resolve(value as T);
    }
    async function check(): Promise<void> {
      try {
        const value = await condition();
        if (value !== undefined && value !== false) finish(undefined, value);
      } catch (e) {
        finish(e as Error);
      }
    }
    void check();
  });
}

/** Waits until the session satisfies `condition`, re-checking on each of its changes. */
export function waitForSession<T>(session: RunSession, what: string, condition: () => T | undefined | false, timeoutMs?: number): Promise<T> {
  return waitFor(what, condition, { event: session.onDidChange as vscode.Event<SessionChange>, timeoutMs });
}

/** True while a process with this id runs (a zombie, dead but not yet reaped, does not count). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // /proc/PID/stat: "pid (comm) S ..." — the state letter follows the command's closing paren.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return process.platform !== 'linux';
  }
}

export async function closeAllEditors(): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}
