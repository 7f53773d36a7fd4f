// The host's end of a runner child process, used by the CLI and the extension alike. Every
// request times out, a runner that dies is reported as a failure, and stop() kills the
// process after a grace period, so the caller never hangs on user code. Every message is
// checked field by field (the runner runs user code); one that breaks the protocol ends the run.
import { fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
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
import { Endpoint } from '../shared/endpoint';
import { EXPECTED_REPLY, ProtocolViolation, describeViolation, parseBusyReport, parseRunnerMessage, type BusyReport } from '../shared/messageValidators';
import type { RunError } from '../shared/traceTypes';
import type { WasmThreads } from '../shared/wasmThreads';
import { describeStall, describeTimeout, type QuietDuring } from './stallNotice';

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
  /** XNNPACK's pool on the wasm backend (default 'auto'). */
  wasmThreads?: WasmThreads;
  cwd?: string;
  /** Lines the runner process printed on stdout/stderr (not the user's console, which arrives as log messages). */
  onOutput?: (text: string) => void;
  /** How long the runner may take to load tfjs and say hello. */
  helloTimeoutMs?: number;
  /** After this long without progress (a step, a reply, a pause) listeners of onStall hear of it, and again every as long. */
  stallNoticeMs?: number;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** The runner has made no progress for a while. */
export interface StallNotice {
  silentMs: number;
  /** What the runner's watch thread last said about its main thread. */
  busy?: BusyReport;
  /** One sentence for the user (without how to stop: that depends on where it is shown). */
  message: string;
}

/** GRADIENT_LENS_STALL_MS: how long a quiet runner goes before its client says so (the tests shorten it). */
function stallNoticeFromEnv(): number | undefined {
  const ms = Number(process.env.GRADIENT_LENS_STALL_MS);
  return Number.isInteger(ms) && ms > 0 ? ms : undefined;
}

export function defaultRunnerPath(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    for (const candidate of [path.join(dir, 'runner.js'), path.join(dir, 'dist', 'runner.js')]) {
      if (fs.existsSync(candidate)) return candidate;
    }
    if (path.dirname(dir) === dir) throw new Error('dist/runner.js not found: run `npm run build` first');
  }
}

/** The runner's stdio: stdin, stdout, stderr, IPC, and the watch thread's busy reports (see src/runner/parentWatch.ts). */
const BUSY_REPORT_FD = 4;

export class RunnerClient {
  readonly ready: Promise<RunnerHello>;
  readonly exited: Promise<ExitInfo>;
  private readonly child: ChildProcess;
  private readonly listeners = new Set<(msg: FromRunner) => void>();
  private readonly stallListeners = new Set<(notice: StallNotice) => void>();
  /** Requests and their replies (ids, the reply kinds each expects, timeouts): src/shared/endpoint.ts. */
  private readonly endpoint: Endpoint<ToRunner, FromRunner, typeof EXPECTED_REPLY>;
  private stopping = false;
  private hasExited = false;
  private protocolBroken = false;
  // What the protocol has seen so far, to judge whether the next message may come now.
  private helloSeen = false;
  private startedSteps?: number;
  private stepsDone = 0;
  private lastStep = -1;
  private paused = false;
  private quiet?: QuietDuring;
  private lastProgressAt = Date.now();
  private nextStallNoticeAt = 0;
  private lastBusy?: BusyReport;
  private readonly stallTimer: NodeJS.Timeout;

  private constructor(options: RunnerClientOptions) {
    const runnerPath = options.runnerPath ?? defaultRunnerPath();
    this.child = fork(runnerPath, [], {
      cwd: options.cwd,
      serialization: 'advanced',
      stdio: ['ignore', 'pipe', 'pipe', 'ipc', 'pipe'],
      execArgv: ['--enable-source-maps'],
      env: {
        ...process.env,
        GRADIENT_LENS_BACKEND: options.backend ?? process.env.GRADIENT_LENS_BACKEND ?? 'auto',
        GRADIENT_LENS_WASM_THREADS: String(options.wasmThreads ?? process.env.GRADIENT_LENS_WASM_THREADS ?? 'auto'),
      },
    });
    // Every request times out (its own timeout, given with it); a `failed` reply rejects it.
    this.endpoint = new Endpoint((envelope) => this.child.send(envelope), EXPECTED_REPLY, 60_000, {
      failure: (reply) => (reply.type === 'failed' ? new RunnerError(reply.error) : undefined),
      timeoutError: (request, ms) => new RunnerError(this.timeoutError(request, ms)),
    });
    const output = (chunk: Buffer) => options.onOutput?.(chunk.toString());
    this.child.stdout?.on('data', output);
    this.child.stderr?.on('data', output);
    this.readBusyReports(this.child.stdio[BUSY_REPORT_FD] as Readable | null);

    const stallMs = options.stallNoticeMs ?? stallNoticeFromEnv() ?? 10_000;
    this.stallTimer = setInterval(() => this.checkStall(stallMs), Math.min(1000, stallMs / 4));
    this.stallTimer.unref();

    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.hasExited = true;
        clearInterval(this.stallTimer);
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

    this.child.on('message', (raw) => this.receive(raw));
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

  /** Hears when the runner has made no progress for `stallNoticeMs` (and again every as long). */
  onStall(listener: (notice: StallNotice) => void): () => void {
    this.stallListeners.add(listener);
    return () => this.stallListeners.delete(listener);
  }

  private receive(raw: unknown): void {
    if (this.protocolBroken) return;
    let env: Envelope<FromRunner>;
    try {
      env = parseRunnerMessage(raw);
      this.checkOrder(env);
    } catch (e) {
      if (e instanceof ProtocolViolation) return this.breakProtocol(e.message);
      throw e;
    }
    const msg = env.body;
    this.noteProgress(msg);
    this.endpoint.receive(env);
    // A run that ended ends its runner: that exit is expected, not a crash.
    if (msg.type === 'state' && ['finished', 'stopped', 'failed'].includes(msg.state)) this.stopping = true;
    this.emit(msg);
  }

  /** Whether this message may come now: replies of the kind asked for, steps after the start, a finish after every step. */
  private checkOrder(env: Envelope<FromRunner>): void {
    const msg = env.body;
    if (env.inReplyTo !== undefined) {
      if (!this.endpoint.sent(env.inReplyTo)) throw new ProtocolViolation(`a '${msg.type}' in reply to request ${env.inReplyTo}, which was never sent`);
      const waiting = this.endpoint.waitingFor(env.inReplyTo);
      if (waiting && msg.type !== 'failed' && !waiting.expects.includes(msg.type)) {
        const expected = waiting.expects.map((t) => `'${t}'`).join(' or ') || 'no reply';
        throw new ProtocolViolation(`a '${msg.type}' in reply to '${waiting.request}', which expects ${expected}`);
      }
      if (!waiting && msg.type !== 'failed' && !this.endpoint.takeExpired(env.inReplyTo)) throw new ProtocolViolation(`a second reply to request ${env.inReplyTo}`);
    } else if (['summary', 'started', 'ack'].includes(msg.type)) {
      throw new ProtocolViolation(`a '${msg.type}' that answers no request`);
    }
    switch (msg.type) {
      case 'hello':
        if (this.helloSeen) throw new ProtocolViolation(`a second 'hello'`);
        this.helloSeen = true;
        return;
      case 'stepDone':
        if (this.startedSteps === undefined) throw new ProtocolViolation(`'stepDone' for step ${msg.entry.step} before the run started`);
        if (msg.entry.step <= this.lastStep) throw new ProtocolViolation(`'stepDone' for step ${msg.entry.step} after step ${this.lastStep}`);
        this.lastStep = msg.entry.step;
        this.stepsDone++;
        return;
      case 'started':
        this.startedSteps = msg.meta.config.steps;
        return;
      case 'state':
        // A run finishes only once all its steps are done and reported (or, when the runner says
        // why it ended early, once the steps it did run are).
        const plannedEnd = msg.endedEarly !== undefined ? this.stepsDone : this.startedSteps;
        if (msg.state === 'finished' && (this.startedSteps === undefined || msg.step !== plannedEnd || this.stepsDone !== msg.step)) {
          const planned = this.startedSteps === undefined ? 'the run never started' : `the run has ${this.startedSteps}`;
          throw new ProtocolViolation(`'finished' at step ${msg.step} after ${this.stepsDone} completed step(s); ${planned}`);
        }
        return;
      default:
        return;
    }
  }

  /** Replies that come after their request timed out are late, not wrong. */
  private breakProtocol(reason: string): void {
    this.protocolBroken = true;
    const error: RunError = { kind: 'protocol', message: describeViolation(reason) };
    // Failed first, so the exit that follows is this error and not a crash.
    this.stopping = true;
    this.emit({ type: 'failed', error });
    this.rejectAll(new RunnerError(error));
    this.kill();
  }

  private readBusyReports(stream: Readable | null): void {
    if (!stream) return;
    let buffered = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buffered += chunk;
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (this.protocolBroken || !line.trim()) continue;
        try {
          this.lastBusy = parseBusyReport(line);
        } catch (e) {
          if (e instanceof ProtocolViolation) this.breakProtocol(e.message);
          else throw e;
        }
      }
    });
  }

  private noteProgress(msg: FromRunner): void {
    if (msg.type === 'log') return;
    this.lastProgressAt = Date.now();
    this.nextStallNoticeAt = 0;
    this.lastBusy = undefined;
    if (msg.type === 'state') this.paused = msg.state === 'paused';
    if (msg.type === 'stepDone' && this.quiet?.kind === 'run') this.quiet = { kind: 'run', stepsDone: this.stepsDone };
  }

  private checkStall(stallMs: number): void {
    if (!this.quiet || this.paused || this.hasExited || this.stopping) return;
    const silentMs = Date.now() - this.lastProgressAt;
    if (silentMs < stallMs || silentMs < this.nextStallNoticeAt) return;
    this.nextStallNoticeAt = silentMs + stallMs;
    const notice: StallNotice = { silentMs, busy: this.lastBusy, message: describeStall(silentMs, this.quiet, this.lastBusy) };
    for (const l of [...this.stallListeners]) l(notice);
  }

  private emit(msg: FromRunner): void {
    for (const l of [...this.listeners]) l(msg);
  }

  private rejectAll(err: Error): void {
    this.endpoint.rejectAll(err);
  }

  /** Sends a request; resolves with its reply, rejects on a failure reply, timeout or exit. */
  async request(body: ToRunner, timeoutMs: number): Promise<FromRunner> {
    await this.ready;
    if (this.hasExited || this.protocolBroken) throw new RunnerError({ kind: 'runner-crashed', message: 'The runner is not running.' });
    return this.endpoint.request(body, timeoutMs);
  }

  private timeoutError(body: ToRunner, timeoutMs: number): RunError {
    if (body.type === 'load' || body.type === 'start') {
      return { kind: 'timeout', message: describeTimeout(body.type, body.file, timeoutMs, this.lastBusy), location: this.lastBusy?.location };
    }
    return { kind: 'timeout', message: `The runner did not answer '${body.type}' within ${timeoutMs} ms; ${this.lastBusy ? 'it is busy' : 'it may be busy in the model file'}.`, location: this.lastBusy?.location };
  }

  /** Builds the file's model without training; a runaway file is killed after the timeout. */
  async load(file: string, timeoutMs = 60_000, cwd?: string): Promise<SummaryReply> {
    this.watchQuiet({ kind: 'load', file });
    try {
      return (await this.request({ type: 'load', file, cwd }, timeoutMs)) as SummaryReply;
    } catch (e) {
      if (e instanceof RunnerError && e.runError.kind === 'timeout') this.kill();
      throw e;
    } finally {
      this.quiet = undefined;
    }
  }

  async start(req: Omit<StartRequest, 'type'>, timeoutMs = 120_000): Promise<Started> {
    this.watchQuiet({ kind: 'load', file: req.file });
    try {
      const started = (await this.request({ type: 'start', ...req }, timeoutMs)) as Started;
      // Training runs until the runner says it ended: quiet from here on is a stalled step.
      this.watchQuiet({ kind: 'run', stepsDone: this.stepsDone });
      return started;
    } catch (e) {
      this.quiet = undefined;
      if (e instanceof RunnerError && e.runError.kind === 'timeout') this.kill();
      throw e;
    }
  }

  private watchQuiet(during: QuietDuring): void {
    this.quiet = during;
    this.lastProgressAt = Date.now();
    this.nextStallNoticeAt = 0;
  }

  async control(action: ControlAction, toStep?: number, timeoutMs = 5_000): Promise<void> {
    await this.request({ type: 'control', action, toStep }, timeoutMs);
  }

  /** Asks the runner to finish its record and exit; kills it if it has not after `graceMs`. */
  async stop(graceMs = 500): Promise<ExitInfo> {
    this.stopping = true;
    if (this.hasExited) return this.exited;
    try {
      if (this.child.connected) this.endpoint.post({ type: 'stop' });
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
    this.stallListeners.clear();
  }
}
