// One side of a typed request/reply conversation, whatever carries it (the runner's IPC channel,
// a webview's postMessage): envelopes with ids, a reply matched to its request by `inReplyTo`,
// checked against the kinds of reply that request expects, and a timeout on every request, so
// nothing waits for ever on a peer that dropped or garbled it.
import type { Envelope } from './protocol';

interface Typed {
  type: string;
}

/** For each request type, the reply types that may answer it. */
export type ReplyKinds<Out extends Typed, In extends Typed> = { readonly [K in Out['type']]?: readonly In['type'][] };

/** Why a request did not get the reply it expects. */
export class RequestError extends Error {
  constructor(
    readonly reason: 'timeout' | 'unexpected-reply' | 'closed',
    message: string,
    /** The reply that came instead, for 'unexpected-reply'. */
    readonly reply?: Typed,
  ) {
    super(message);
  }
}

interface Pending<In> {
  request: string;
  expects: readonly string[];
  resolve(body: In): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

export interface EndpointOptions<Out extends Typed, In extends Typed> {
  /** A reply any request may get that rejects it with this error (the runner's `failed`). */
  failure?(reply: In): Error | undefined;
  /** The error a request that timed out rejects with (default: a RequestError 'timeout'). */
  timeoutError?(request: Out, timeoutMs: number): Error;
}

export class Endpoint<Out extends Typed, In extends Typed, Kinds extends ReplyKinds<Out, In>> {
  private nextId = 1;
  private readonly pending = new Map<number, Pending<In>>();
  /** Requests that timed out: a late reply to one is not a stray. */
  private readonly expired = new Set<number>();

  constructor(
    private readonly send: (envelope: Envelope<Out>) => void,
    private readonly replies: Kinds,
    private readonly defaultTimeoutMs: number,
    private readonly options: EndpointOptions<Out, In> = {},
  ) {}

  /** Sends a message that expects no reply; returns its id. */
  post(body: Out, inReplyTo?: number): number {
    const id = this.nextId++;
    this.send(inReplyTo === undefined ? { id, body } : { id, inReplyTo, body });
    return id;
  }

  /** Sends a request and resolves with its reply, of one of the kinds `replies` names for it. */
  request<B extends Out & { type: keyof Kinds & string }>(
    body: B,
    timeoutMs = this.defaultTimeoutMs,
  ): Promise<Extract<In, { type: NonNullable<Kinds[B['type']]>[number] }>> {
    const expects: readonly string[] = this.replies[body.type] ?? [];
    return new Promise((resolve, reject) => {
      const id = this.nextId;
      const timer = setTimeout(() => {
        this.pending.delete(id);
        this.expired.add(id);
        reject(this.options.timeoutError?.(body, timeoutMs) ?? new RequestError('timeout', `${body.type} #${id}: no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { request: body.type, expects, resolve: resolve as (b: In) => void, reject, timer });
      try {
        this.post(body);
      } catch (e) {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(new RequestError('closed', `${body.type} #${id} could not be sent: ${(e as Error).message}`));
      }
    });
  }

  /**
   * Takes a (validated) incoming envelope: a reply settles its request and returns true; anything
   * else returns false, for the caller's own handlers.
   */
  receive(envelope: Envelope<In>): boolean {
    if (envelope.inReplyTo === undefined) return false;
    const pending = this.pending.get(envelope.inReplyTo);
    if (!pending) return false;
    this.pending.delete(envelope.inReplyTo);
    clearTimeout(pending.timer);
    const body = envelope.body;
    const failure = this.options.failure?.(body);
    if (failure) pending.reject(failure);
    else if (pending.expects.includes(body.type)) pending.resolve(body);
    else {
      const wanted = pending.expects.join(' or ') || 'no reply';
      pending.reject(new RequestError('unexpected-reply', `${pending.request} #${envelope.inReplyTo}: expected ${wanted}, got ${body.type}`, body));
    }
    return true;
  }

  /** Rejects every request still waiting (the peer is gone), with `reason` or a RequestError saying it. */
  rejectAll(reason: string | Error): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(typeof reason === 'string' ? new RequestError('closed', `${p.request} #${id}: ${reason}`) : reason);
    }
    this.pending.clear();
  }

  /** The request `id` waits for a reply: its type and the reply kinds it expects. */
  waitingFor(id: number): { request: Out['type']; expects: readonly In['type'][] } | undefined {
    const p = this.pending.get(id);
    return p && { request: p.request, expects: p.expects };
  }

  /** Whether `id` names a message this side sent. */
  sent(id: number): boolean {
    return Number.isInteger(id) && id >= 1 && id < this.nextId;
  }

  /** Whether `id` is a request that timed out (once: a second late reply is a stray). */
  takeExpired(id: number): boolean {
    return this.expired.delete(id);
  }

  /** Requests still waiting for their reply. */
  get waiting(): number {
    return this.pending.size;
  }
}
