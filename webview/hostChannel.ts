// The panel's side of the protocol: posts FromWebview bodies in envelopes, routes the host's
// ToWebview messages, and matches replies to requests, which reject after a timeout (a request
// the host dropped must not leave the panel waiting for ever).
import type { Envelope, FromWebview, ToWebview } from '../src/shared/protocol';

export interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

export function vscodeApi(): VsCodeApi {
  return acquireVsCodeApi();
}

type Reply<T extends ToWebview['type']> = Extract<ToWebview, { type: T }>;

interface Pending {
  type: ToWebview['type'];
  resolve(body: ToWebview): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

const TO_WEBVIEW_TYPES = new Set<ToWebview['type']>(['init', 'stepData', 'history', 'progress', 'selectLayer', 'goTo']);

export class HostChannel {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly handlers: ((body: ToWebview) => void)[] = [];

  constructor(
    private readonly api: VsCodeApi,
    private readonly timeoutMs = 15_000,
  ) {
    window.addEventListener('message', (event: MessageEvent) => this.receive(event.data));
  }

  /** Messages that are not replies to a pending request (init, progress, selectLayer…). */
  onMessage(handler: (body: ToWebview) => void): void {
    this.handlers.push(handler);
  }

  post(body: FromWebview): number {
    const id = this.nextId++;
    const envelope: Envelope<FromWebview> = { id, body };
    this.api.postMessage(envelope);
    return id;
  }

  request<T extends ToWebview['type']>(body: FromWebview, replyType: T): Promise<Reply<T>> {
    const id = this.post(body);
    return new Promise<Reply<T>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${body.type} #${id}: no reply within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending.set(id, { type: replyType, resolve: resolve as (b: ToWebview) => void, reject, timer });
    });
  }

  private receive(data: unknown): void {
    if (typeof data !== 'object' || data === null) return;
    const envelope = data as Partial<Envelope<ToWebview>>;
    const body = envelope.body;
    if (typeof body !== 'object' || body === null || !TO_WEBVIEW_TYPES.has(body.type)) return;
    if (typeof envelope.inReplyTo === 'number') {
      const pending = this.pending.get(envelope.inReplyTo);
      if (pending) {
        this.pending.delete(envelope.inReplyTo);
        clearTimeout(pending.timer);
        if (pending.type === body.type) pending.resolve(body);
        else pending.reject(new Error(`expected ${pending.type}, got ${body.type}`));
        return;
      }
    }
    for (const handler of this.handlers) handler(body);
  }
}
