// The host's end of a runner child process, used by the CLI and the extension alike. Every
// request times out, a runner that dies is reported as a failure, and stop() kills the
// process after a grace period, so the caller never hangs on user code.
import { fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type {
  ControlAction,
  Envelope,
  FromRunner,
  RunnerHello,
  StartRequest,
  Started,
  SummaryReply,
  ToRunner,
} from '../shared/protocol';
import type { RunError } from '../shared/traceTypes';
import { parseRunnerEnvelope } from './runnerMessages';

export class RunnerError extends Error {
  constructor(readonly runError: RunError) {
    super(runError.message);
  }
}

export interface RunnerClientOptions {
  /** dist/runner.js; found next to this bundle (or in a parent's dist/) when omitted. */
  runnerPath?: string;
  /** 'auto' (default), 'tensorflow', 'wasm' or 'cpu'. */
  backend?: string;
  cwd?: string;
  /** Lines the runner process printed on stdout/stderr (not the user's console, which arrives as log messages). */
  onOutput?: (text: string) => void;
  /** How long the runner may take to load tfjs and say hello. */
  helloTimeoutMs?: number;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export function defaultRunnerPath(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    for (const candidate of [path.join(dir, 'runner.js'), path.join(dir, 'dist', 'runner.js')]) {
      if (fs.existsSync(candidate)) return candidate;
    }
    if (path.dirname(dir) === dir) throw new Error('dist/runner.js not found: run `npm run build` first');
  }
}

interface Pending {
  resolve(msg: FromRunner): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

export class RunnerClient {
  readonly ready: Promise<RunnerHello>;
  readonly exited: Promise<ExitInfo>;
  private readonly child: ChildProcess;
  private readonly listeners = new Set<(msg: FromRunner) => void>();
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private stopping = false;
  private hasExited = false;

  private constructor(options: RunnerClientOptions) {
    const runnerPath = options.runnerPath ?? defaultRunnerPath();
    this.child = fork(runnerPath, [], {
      cwd: options.cwd,
      serialization: 'advanced',
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      execArgv: ['--enable-source-maps'],
      env: { ...process.env, GRADIENT_LENS_BACKEND: options.backend ?? process.env.GRADIENT_LENS_BACKEND ?? 'auto' },
    });
    const output = (chunk: Buffer) => options.onOutput?.(chunk.toString());
    this.child.stdout?.on('data', output);
    this.child.stderr?.on('data', output);

    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.hasExited = true;
        if (!this.stopping) {
          const error: RunError = {
            kind: 'runner-crashed',
            message: `The runner process exited unexpectedly (${signal ? `signal ${signal}` : `code ${code}`}).`,
          };
          this.emit({ type: 'failed', error });
          this.rejectAll(new RunnerError(error));
        } else {
          this.rejectAll(new RunnerError({ kind: 'runner-crashed', message: 'The runner was stopped.' }));
        }
        resolve({ code, signal });
      });
    });
    this.child.on('error', (e) => this.rejectAll(e));

    this.ready = new Promise<RunnerHello>((resolve, reject) => {
      const timeout = options.helloTimeoutMs ?? 30_000;
      const timer = setTimeout(() => {
        reject(new RunnerError({ kind: 'timeout', message: `The runner did not start within ${timeout} ms.` }));
        this.kill();
      }, timeout);
      const off = this.onMessage((msg) => {
        if (msg.type === 'hello') {
          clearTimeout(timer);
          off();
          resolve(msg);
        } else if (msg.type === 'failed') {
          clearTimeout(timer);
          off();
          reject(new RunnerError(msg.error));
        }
      });
    });
    // Unhandled when nobody awaits it; the failure still reaches onMessage listeners.
    this.ready.catch(() => undefined);

    this.child.on('message', (raw) => {
      const env = parseRunnerEnvelope(raw);
      if (!env) {
        options.onOutput?.(`[gradient-lens] ignored a malformed message from the runner\n`);
        return;
      }
      const waiting = env.inReplyTo !== undefined ? this.pending.get(env.inReplyTo) : undefined;
      if (waiting) {
        this.pending.delete(env.inReplyTo!);
        clearTimeout(waiting.timer);
        if (env.body.type === 'failed') waiting.reject(new RunnerError(env.body.error));
        else waiting.resolve(env.body);
      }
      // A run that ended ends its runner: that exit is expected, not a crash.
      if (env.body.type === 'state' && ['finished', 'stopped', 'failed'].includes(env.body.state)) this.stopping = true;
      this.emit(env.body);
    });
  }

  static spawn(options: RunnerClientOptions = {}): RunnerClient {
    return new RunnerClient(options);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return !this.hasExited;
  }

  onMessage(listener: (msg: FromRunner) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(msg: FromRunner): void {
    for (const l of [...this.listeners]) l(msg);
  }

  private rejectAll(err: Error): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(err);
      this.pending.delete(id);
    }
  }

  /** Sends a request; resolves with its reply, rejects on a failure reply, timeout or exit. */
  async request(body: ToRunner, timeoutMs: number): Promise<FromRunner> {
    await this.ready;
    if (this.hasExited) throw new RunnerError({ kind: 'runner-crashed', message: 'The runner is not running.' });
    const id = this.nextId++;
    return new Promise<FromRunner>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new RunnerError({ kind: 'timeout', message: `The runner did not answer '${body.type}' within ${timeoutMs} ms (is the model file stuck in a loop?).` }));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.child.send({ id, body } satisfies Envelope<ToRunner>);
    });
  }

  /** Builds the file's model without training; a runaway file is killed after the timeout. */
  async load(file: string, timeoutMs = 60_000, cwd?: string): Promise<SummaryReply> {
    try {
      return (await this.request({ type: 'load', file, cwd }, timeoutMs)) as SummaryReply;
    } catch (e) {
      if (e instanceof RunnerError && e.runError.kind === 'timeout') this.kill();
      throw e;
    }
  }

  async start(req: Omit<StartRequest, 'type'>, timeoutMs = 120_000): Promise<Started> {
    try {
      return (await this.request({ type: 'start', ...req }, timeoutMs)) as Started;
    } catch (e) {
      if (e instanceof RunnerError && e.runError.kind === 'timeout') this.kill();
      throw e;
    }
  }

  async control(action: ControlAction, toStep?: number, timeoutMs = 5_000): Promise<void> {
    await this.request({ type: 'control', action, toStep }, timeoutMs);
  }

  /** Asks the runner to finish its record and exit; kills it if it has not after `graceMs`. */
  async stop(graceMs = 500): Promise<ExitInfo> {
    this.stopping = true;
    if (this.hasExited) return this.exited;
    try {
      if (this.child.connected) this.child.send({ id: this.nextId++, body: { type: 'stop' } } satisfies Envelope<ToRunner>);
    } catch {
      // The channel closed under us: kill below.
    }
    const timer = setTimeout(() => this.kill(), graceMs);
    const info = await this.exited;
    clearTimeout(timer);
    return info;
  }

  kill(): void {
    this.stopping = true;
    if (!this.hasExited) this.child.kill('SIGKILL');
  }

  dispose(): void {
    this.kill();
    this.listeners.clear();
  }
}
