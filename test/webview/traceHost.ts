// The test's stand-in for the extension host: speaks the panel protocol from a recorded trace
// (TraceReader), the way the real host does: `init` on `ready`, `stepData` for `requestStep`,
// `history` for `requestHistory`, each reply carrying the request's id in `inReplyTo`.
import type { Envelope, FromWebview, InitRun, ToWebview } from '../../src/shared/protocol';
import type { RunError } from '../../src/shared/traceTypes';
import type { TraceReader } from '../../src/trace/traceReader';

/** What the host reads: a TraceReader, or a stand-in built on one (e.g. a very long run). */
export type TraceSource = Pick<TraceReader, 'meta' | 'dir' | 'stepCount' | 'curve' | 'readStep' | 'history'>;

export interface HostOptions {
  error?: RunError;
  live?: boolean;
  /** Extra fields on init (e.g. the run directory). */
  runDir?: string;
  /** The steps with full tensors the host reports (default: the reader's, when it has them). */
  fullTensorSteps?: number[];
}

/** Typed arrays → { __typed, b64 } so they cross the Playwright binding fast; the page revives them. */
export function encodeTyped(v: unknown): unknown {
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
    return { __typed: v.constructor.name, b64: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
  }
  if (Array.isArray(v)) return v.map(encodeTyped);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = encodeTyped(x);
    return out;
  }
  return v;
}

export class TraceHost {
  /** Every message the panel posted, in order. */
  readonly received: Envelope<FromWebview>[] = [];
  private nextId = 1_000_000;
  private readonly waiters: { test: (m: Envelope<FromWebview>) => boolean; resolve: (m: Envelope<FromWebview>) => void }[] = [];

  constructor(
    public reader: TraceSource,
    public options: HostOptions = {},
  ) {}

  initMessage(): InitRun & { runDir: string } {
    return {
      type: 'init',
      meta: this.reader.meta,
      curve: this.reader.curve(2000),
      stepCount: this.reader.stepCount,
      state: this.options.error ? 'failed' : this.options.live ? 'running' : 'finished',
      error: this.options.error,
      live: this.options.live ?? false,
      runDir: this.options.runDir ?? this.reader.dir,
      fullTensorSteps: this.options.fullTensorSteps ?? (this.reader as Partial<Pick<TraceReader, 'fullTensorSteps'>>).fullTensorSteps,
    };
  }

  envelope(body: ToWebview, inReplyTo?: number): unknown {
    return encodeTyped({ id: this.nextId++, inReplyTo, body });
  }

  /** Called through the page binding with each posted envelope; returns the replies. */
  handle(message: Envelope<FromWebview>): unknown[] {
    this.received.push(message);
    for (const w of [...this.waiters]) {
      if (w.test(message)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(message);
      }
    }
    const body = message.body;
    switch (body.type) {
      case 'ready':
        return [this.envelope(this.initMessage())];
      case 'requestStep':
        return [this.envelope({ type: 'stepData', record: this.reader.readStep(body.step) }, message.id)];
      case 'requestHistory':
        return [this.envelope(this.reader.history(body.layer, body.role, body.param, body.maxColumns), message.id)];
      default:
        return [];
    }
  }

  /** Resolves with the first message (already received after `since`, or yet to come) that passes `test`. */
  waitFor(test: (m: Envelope<FromWebview>) => boolean, since = 0): Promise<Envelope<FromWebview>> {
    const seen = this.received.slice(since).find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }
}

/**
 * A 100,000-step run made from a short recorded one: step n replays record n mod the recorded
 * length, renumbered; the curve is downsampled as the real host does. Records are decoded once.
 */
export function longRun(reader: TraceReader, steps: number): TraceSource {
  const n = reader.stepCount;
  const records = Array.from({ length: n }, (_, i) => reader.readStep(i));
  const index = reader.index;
  return {
    meta: { ...reader.meta, runId: `${reader.meta.runId}-x${steps}`, config: { ...reader.meta.config, steps } },
    dir: `${reader.dir}-x${steps}`,
    stepCount: steps,
    curve(maxPoints = 2000) {
      const stride = Math.ceil(steps / maxPoints);
      const out = [];
      for (let s = 0; s < steps; s += stride) out.push({ ...index[s % n], step: s });
      out.push({ ...index[(steps - 1) % n], step: steps - 1 });
      return out;
    },
    readStep(step: number) {
      if (step < 0 || step >= steps) throw new RangeError(`step ${step}`);
      return { ...records[step % n], step };
    },
    history(layer, role, param, maxColumns) {
      const h = reader.history(layer, role, param, maxColumns);
      return { ...h, steps: h.steps.map((s) => Math.round((s / Math.max(1, n - 1)) * (steps - 1))) };
    },
  };
}

/** The first `steps` steps of a recorded run, as a live run shows them while it is still going. */
export function partialRun(reader: TraceReader, steps: number): TraceSource {
  return {
    meta: reader.meta,
    dir: reader.dir,
    stepCount: Math.min(steps, reader.stepCount),
    curve: (max?: number) => reader.curve(max).filter((e) => e.step < steps),
    readStep: (s: number) => {
      if (s >= steps) throw new RangeError(`step ${s} is not recorded yet`);
      return reader.readStep(s);
    },
    history: (layer, role, param, maxColumns) => {
      const h = reader.history(layer, role, param, maxColumns);
      const keep = h.steps.map((s) => s < steps);
      return { ...h, steps: h.steps.filter((_, i) => keep[i]), ranges: h.ranges.filter((_, i) => keep[i]), histograms: h.histograms.filter((_, i) => keep[i]) };
    },
  };
}
