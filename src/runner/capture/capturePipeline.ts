// The training thread's end of the capture worker: hands it each step's read-back (zero-copy)
// and gets back what was written, in order. At most a few steps are in flight, so a slow disk
// or a huge keyframe slows training down instead of growing memory without bound. There is one
// path: every caller (the runner, the benchmarks) runs the built worker, dist/captureWorker.js.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { RunError, RunMeta } from '../../shared/traceTypes';
import type { RunEnd } from '../../trace/traceWriter';
import { LocatedError } from '../runError';
import { transferList, type StepCapture } from './recordBuilder';
import type { WrittenStep } from './recordSink';

export type ToCaptureWorker =
  | { type: 'open'; outDir: string; meta: RunMeta }
  | { type: 'step'; capture: StepCapture }
  | { type: 'close'; end: Omit<RunEnd, 'endedAt' | 'steps'> };

type FromCaptureWorker =
  | { type: 'opened' }
  | { type: 'written'; written: WrittenStep | undefined; busyMs: number }
  | { type: 'closed' }
  | { type: 'error'; message: string; error?: RunError };

const MAX_IN_FLIGHT = 3;

export class CapturePipeline {
  private readonly worker: Worker;
  private readonly waiting: { resolve(msg: FromCaptureWorker): void; reject(e: Error): void }[] = [];
  private inFlight: Promise<unknown>[] = [];
  private busyMs = 0;
  /** Settles once the trace folder and its files exist. */
  readonly opened: Promise<void>;

  constructor(outDir: string, meta: RunMeta) {
    this.worker = new Worker(captureWorkerPath());
    this.worker.on('message', (msg: FromCaptureWorker) => {
      const next = this.waiting.shift();
      if (msg.type === 'written') this.busyMs += msg.busyMs;
      if (msg.type === 'error') next?.reject(msg.error ? new LocatedError(msg.error) : new Error(`capture worker: ${msg.message}`));
      else next?.resolve(msg);
    });
    this.worker.on('error', (e) => {
      for (const w of this.waiting.splice(0)) w.reject(e);
    });
    this.opened = this.request({ type: 'open', outDir, meta }).then(() => undefined);
  }

  /** Time spent building and writing records so far (the worker's own, not waiting for work): what the benchmarks compare with the training thread's. */
  get workerBusyMs(): number {
    return this.busyMs;
  }

  private request(msg: ToCaptureWorker, transfer: ArrayBuffer[] = []): Promise<FromCaptureWorker> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.worker.postMessage(msg, transfer);
    });
  }

  /**
   * Hands a step over (waiting first when too many steps are still being written). `written`
   * resolves once its record is on disk (undefined when dropped after a non-finite step).
   */
  async submit(capture: StepCapture): Promise<{ written: Promise<WrittenStep | undefined> }> {
    if (this.inFlight.length >= MAX_IN_FLIGHT) await this.inFlight.shift();
    const written = this.request({ type: 'step', capture }, transferList(capture)).then((m) => (m as { written: WrittenStep | undefined }).written);
    this.inFlight.push(written.catch(() => undefined));
    return { written };
  }

  /** Waits for every step in flight, writes how the run ended, and stops the worker. */
  async close(end: Omit<RunEnd, 'endedAt' | 'steps'>): Promise<void> {
    try {
      await Promise.all(this.inFlight);
      await this.request({ type: 'close', end });
    } finally {
      // Even when end.json cannot be written (a full disk), the worker must not keep the runner alive.
      await this.worker.terminate();
    }
  }
}

/** The built worker beside this file (dist/, or a bench's bin/), else dist/ above it. */
function captureWorkerPath(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    for (const candidate of [path.join(dir, 'captureWorker.js'), path.join(dir, 'dist', 'captureWorker.js')]) {
      if (fs.existsSync(candidate)) return candidate;
    }
    if (path.dirname(dir) === dir) throw new Error('dist/captureWorker.js not found: run `npm run build` first');
  }
}
