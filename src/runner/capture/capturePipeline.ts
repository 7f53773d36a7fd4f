// The training thread's end of the capture worker: hands it each step's copied-out tensors
// (transferred, not copied again) and gets back what was written. Requests and replies go through the
// shared Endpoint (ids, reply kinds, timeouts), as every other conversation does; the worker
// answers in order, one request at a time. At most a few steps are in flight, so a slow disk or a
// huge keyframe slows training down instead of growing memory without bound. There is one path:
// every caller (the runner, the benchmarks, the tests) runs the built worker, dist/captureWorker.js.
import { Worker } from 'node:worker_threads';
import { Endpoint, RequestError } from '../../shared/endpoint';
import { CAPTURE_EXPECTED_REPLY, ProtocolViolation, parseCaptureReply } from '../../shared/messageValidators';
import type { CaptureClose, CaptureStep, CopiedStep, FromCaptureWorker, ToCaptureWorker } from '../../shared/protocol';
import type { CapturePolicy, LayerInfo, RunMeta } from '../../shared/traceTypes';
import { LocatedError } from '../runError';
import { builtScript } from '../builtScript';
import { BufferPool } from './bufferPool';
import { buildStepRecordInPlace, recordTransferList, transferList, type BuiltStep } from './recordBuilder';
import { copyOut, viewOut, type FinishedStep } from './stepCopy';
import type { WrittenStep } from './recordSink';

const MAX_IN_FLIGHT = 3;

/** A finished step as the pipeline took it: copied out for the worker to build, or built here. */
export type TakenStep = { copied: CopiedStep } | { built: BuiltStep };

/** What only the training thread knows of a step: its time, and the held-out metrics measured after it. */
export type StepExtras = Omit<CaptureStep, 'type' | 'step'>;

/**
 * Copies waiting for the worker, at most: a step's copies are every tensor it captured (≈ 2.4 MB
 * for the seed MLP, ≈ 120 MB for the mid-size conv net at batch 128), so a slow worker must slow
 * training down rather than let them pile up.
 */
const MAX_IN_FLIGHT_BYTES = 256 * 1024 * 1024;

/** A step's write waits behind at most MAX_IN_FLIGHT others, each a disk append: a minute means the worker is stuck. */
const REPLY_TIMEOUT_MS = 60_000;

export class CapturePipeline {
  private readonly worker: Worker;
  private readonly endpoint: Endpoint<ToCaptureWorker, FromCaptureWorker, typeof CAPTURE_EXPECTED_REPLY>;
  private inFlight: { done: Promise<unknown>; bytes: number }[] = [];
  private inFlightBytes = 0;
  private readonly pool = new BufferPool();
  private readonly policy: CapturePolicy;
  private readonly layers: LayerInfo[];
  /** Steps handed over, and (written by the worker) steps it has finished. */
  private submitted = 0;
  private readonly progress = new Int32Array(new SharedArrayBuffer(4));
  private busyMs = 0;
  /** Settles once the trace folder and its files exist. */
  readonly opened: Promise<void>;

  /** `worker`: one bootCaptureWorker() started earlier (while the run was being prepared), else a new one. */
  constructor(outDir: string, meta: RunMeta, worker: Worker = bootCaptureWorker()) {
    this.worker = worker;
    this.endpoint = new Endpoint(
      (env) => this.worker.postMessage(env, transfersOf(env.body)),
      CAPTURE_EXPECTED_REPLY,
      REPLY_TIMEOUT_MS,
      {
        failure: (reply) => (reply.type !== 'captureFailed' ? undefined : reply.error ? new LocatedError(reply.error) : new Error(`capture worker: ${reply.message}`)),
        timeoutError: (request, ms) => new Error(`capture worker: no reply to '${request.type}' within ${ms / 1000} s`),
      },
    );
    this.worker.on('message', (raw: unknown) => {
      try {
        const env = parseCaptureReply(raw);
        if (!this.endpoint.receive(env)) throw new ProtocolViolation(`a '${env.body.type}' that answers no request`);
      } catch (e) {
        // Our own worker broke the protocol: nothing it says can be trusted any more.
        this.endpoint.rejectAll(new Error(`capture worker: ${(e as Error).message}`));
      }
    });
    this.worker.on('error', (e) => this.endpoint.rejectAll(e));
    this.worker.on('exit', (code) => this.endpoint.rejectAll(new RequestError('closed', `capture worker exited (${code})`)));
    this.policy = meta.config.capture;
    this.layers = meta.model.layers;
    this.opened = this.endpoint.request({ type: 'open', outDir, meta, progress: this.progress.buffer as SharedArrayBuffer }).then(() => undefined);
  }

  /** Time spent writing records so far (the worker's own, not waiting for work): what the benchmarks compare with the training thread's. */
  get workerBusyMs(): number {
    return this.busyMs;
  }

  /** An array to copy a captured tensor into: one the worker handed back when there is one of its size. */
  floats(length: number): Float32Array {
    return this.pool.floats(length);
  }

  /** Whether the worker is still busy with a step handed to it. */
  get workerBehind(): boolean {
    return this.submitted > Atomics.load(this.progress, 0);
  }

  /**
   * Takes a finished step off the backend, before its scope is disposed. When the worker keeps
   * up, the tensors are copied out (one memcpy each, into buffers it handed back) and it builds
   * the record; when it is still busy with the step before, the record is built here, reading the
   * backend's memory in place, rather than wait for it. So the two threads share the summaries
   * whatever the batch size and however loaded the cores: at batch 32 the worker's part alone
   * (≈ 3.8 ms, mostly the three parameter-sized tensors) is longer than the step.
   */
  take(finished: FinishedStep): TakenStep {
    if (this.workerBehind) return { built: buildStepRecordInPlace(viewOut(finished), this.policy, this.layers) };
    return { copied: copyOut(finished, (n) => this.floats(n)) };
  }

  /**
   * Hands a taken step over (waiting first when too many steps are still being written): its
   * buffers move to the worker, so the caller must not read them afterwards. `written` resolves
   * once its record is on disk (empty when dropped after a non-finite step).
   */
  async submit(taken: TakenStep, extras: StepExtras): Promise<{ written: Promise<WrittenStep> }> {
    const request: ToCaptureWorker =
      'copied' in taken
        ? { type: 'step', step: taken.copied, ...extras }
        : { type: 'record', record: { ...taken.built, ...extras } };
    const bytes = transfersOf(request).reduce((sum, b) => sum + b.byteLength, 0);
    // The oldest first, until this one fits (always when nothing else is in flight).
    while (this.inFlight.length >= MAX_IN_FLIGHT || (this.inFlight.length > 0 && this.inFlightBytes + bytes > MAX_IN_FLIGHT_BYTES)) {
      const oldest = this.inFlight.shift()!;
      await oldest.done;
      this.inFlightBytes -= oldest.bytes;
    }
    this.submitted++;
    const written = this.endpoint.request(request).then(({ type: _, busyMs, buffers, ...step }) => {
      this.busyMs += busyMs;
      if (buffers) this.pool.give(buffers);
      return step;
    });
    this.inFlight.push({ done: written.catch(() => undefined), bytes });
    this.inFlightBytes += bytes;
    return { written };
  }

  /** Waits for every step in flight, writes how the run ended, and stops the worker. */
  async close(end: CaptureClose['end']): Promise<void> {
    try {
      await Promise.all(this.inFlight.map((f) => f.done));
      await this.endpoint.request({ type: 'close', end });
    } finally {
      // Even when end.json cannot be written (a full disk), the worker must not keep the runner alive.
      await this.worker.terminate();
    }
  }
}

/** The buffers a request moves to the worker (a step's copies, a record's kept tensors). */
function transfersOf(request: ToCaptureWorker): ArrayBuffer[] {
  if (request.type === 'step') return transferList(request.step);
  if (request.type === 'record') return recordTransferList(request.record);
  return [];
}

/**
 * Starts a capture worker ahead of its trace: a thread takes tens of ms to boot (its own V8 and
 * bundle; 369 ms measured on this loaded machine), which the runner overlaps with preparing the
 * run rather than adding to the time before the first step. Until it is opened it waits, idle.
 */
export function bootCaptureWorker(): Worker {
  const worker = new Worker(builtScript('captureWorker.js'));
  // Until its pipeline listens, a failure must not be an uncaught 'error' (the pipeline rejects
  // on the worker's errors and exit; one that came before it is caught by the request timeout).
  worker.on('error', () => undefined);
  return worker;
}
