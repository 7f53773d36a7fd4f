// Drives the real CLI as a user would and finds every process it started (tagged through the
// environment, which the runner inherits), so a fault test can prove none is left behind.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const root = path.resolve(__dirname, '../../..');
export const cliPath = path.join(root, 'dist/cli.js');
export const fixture = (name: string): string => path.join(root, 'test/unit/fixtures', name);
export const tempDir = (prefix = 'gl-fault-'): string => fs.mkdtempSync(path.join(os.tmpdir(), prefix));

const TAG = 'GL_FAULT_TAG';

/** Live (not zombie) processes whose environment carries this tag. */
export function taggedProcesses(tag: string): number[] {
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!fs.readFileSync(`/proc/${entry}/environ`, 'latin1').includes(`${TAG}=${tag}\0`)) continue;
      const state = fs.readFileSync(`/proc/${entry}/stat`, 'latin1').replace(/^.*\) /, '')[0];
      if (state !== 'Z') found.push(Number(entry));
    } catch {
      // Gone while we looked, or not ours.
    }
  }
  return found;
}

/** Resolves once `pid` no longer exists (kill(pid, 0) throws ESRCH) or is a zombie; the time it took. */
export async function waitGone(pid: number, withinMs: number): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    try {
      process.kill(pid, 0);
      const state = fs.readFileSync(`/proc/${pid}/stat`, 'latin1').replace(/^.*\) /, '')[0];
      if (state === 'Z') return Date.now() - t0;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH' || (e as NodeJS.ErrnoException).code === 'ENOENT') return Date.now() - t0;
      throw e;
    }
    if (Date.now() - t0 > withinMs) assert.fail(`process ${pid} still runs ${withinMs} ms later`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface CliRun {
  tag: string;
  pid: number;
  /** Every process seen with the tag while the CLI ran (the CLI itself and its runner). */
  seen: Set<number>;
  out: string;
  err: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves when stdout+stderr match (rejects if the CLI exits first). */
  waitForOutput(pattern: RegExp): Promise<RegExpMatchArray>;
}

const started = new Set<string>();

/** Kills whatever a test's runs left behind (after a failed assertion), by pid. */
export function killLeftovers(): void {
  for (const tag of started) {
    for (const pid of taggedProcesses(tag)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
  started.clear();
}

export interface CliOptions {
  /** `ulimit -f`: files the CLI and its runner write stop growing here, for real (EFBIG, a short write). */
  fileSizeLimitKb?: number;
}

export function startCli(args: string[], env: Record<string, string> = {}, options: CliOptions = {}): CliRun {
  const tag = crypto.randomUUID();
  started.add(tag);
  const command = options.fileSizeLimitKb === undefined ? [process.execPath, cliPath, ...args] : ['bash', '-c', `ulimit -f ${options.fileSizeLimitKb}; exec "$0" "$@"`, process.execPath, cliPath, ...args];
  const child = spawn(command[0], command.slice(1), { cwd: root, env: { ...process.env, ...env, [TAG]: tag }, stdio: ['ignore', 'pipe', 'pipe'] });
  const run: CliRun = {
    tag,
    pid: child.pid!,
    seen: new Set([child.pid!]),
    out: '',
    err: '',
    exited: new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal }))),
    waitForOutput: (pattern) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const m = (run.out + run.err).match(pattern);
          if (m) {
            off();
            resolve(m);
          }
        };
        const onExit = () => {
          off();
          reject(new Error(`the CLI exited before printing ${pattern}:\n${run.out}\n${run.err}`));
        };
        const off = () => {
          child.stdout.off('data', check);
          child.stderr.off('data', check);
          child.off('exit', onExit);
        };
        child.stdout.on('data', check);
        child.stderr.on('data', check);
        child.once('exit', onExit);
        check();
      }),
  };
  child.stdout.on('data', (d: Buffer) => (run.out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (run.err += d.toString()));
  const poll = setInterval(() => taggedProcesses(tag).forEach((p) => run.seen.add(p)), 100);
  void run.exited.then(() => clearInterval(poll));
  return run;
}

/** Runs the CLI to its end. */
export async function runCli(args: string[], env: Record<string, string> = {}, options: CliOptions = {}): Promise<CliRun & { code: number | null }> {
  const run = startCli(args, env, options);
  const { code } = await run.exited;
  return { ...run, code };
}

/**
 * No process the run started is left: every one seen is gone within a second, and so is any the
 * poll missed (the esbuild service the runner starts notices its parent's end on its own).
 */
export async function assertNoSurvivors(run: { tag: string; seen: Set<number> }): Promise<void> {
  for (const pid of run.seen) await waitGone(pid, 1000);
  for (const pid of taggedProcesses(run.tag)) await waitGone(pid, 1000);
  assert.deepEqual(taggedProcesses(run.tag), [], 'a process started by the run survives');
}

/** An internal stack in what the user sees: never acceptable. */
export function assertNoStack(text: string): void {
  assert.doesNotMatch(text, /^\s+at .+:\d+:\d+\)?$/m, `a stack trace reached the user:\n${text}`);
}
