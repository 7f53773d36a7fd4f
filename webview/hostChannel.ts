// The panel's side of the protocol: posts FromWebview bodies in envelopes, routes the host's
// ToWebview messages, and matches replies to requests through the shared Endpoint (ids, the reply
// kinds each request expects, a timeout: a request the host dropped must not leave the panel
// waiting for ever).
import { Endpoint, type ReplyKinds } from '../src/shared/endpoint';
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

/** Which reply answers which request (the rest of what the panel sends expects none). */
export const WEBVIEW_REPLIES = { requestStep: ['stepData'], requestHistory: ['history'], requestBaselineStep: ['baselineStepData'] } as const satisfies ReplyKinds<FromWebview, ToWebview>;

const TO_WEBVIEW_TYPES = new Set<ToWebview['type']>(['init', 'stepData', 'history', 'progress', 'selectLayer', 'goTo', 'compare', 'compareEnded', 'baselineStepData']);

export class HostChannel {
  private readonly endpoint: Endpoint<FromWebview, ToWebview, typeof WEBVIEW_REPLIES>;
  private readonly handlers: ((body: ToWebview) => void)[] = [];

  constructor(api: VsCodeApi, timeoutMs = 15_000) {
    this.endpoint = new Endpoint((envelope) => api.postMessage(envelope), WEBVIEW_REPLIES, timeoutMs);
    window.addEventListener('message', (event: MessageEvent) => this.receive(event.data));
  }

  /** Messages that are not replies to a pending request (init, progress, selectLayer…). */
  onMessage(handler: (body: ToWebview) => void): void {
    this.handlers.push(handler);
  }

  post(body: FromWebview): number {
    return this.endpoint.post(body);
  }

  /** A request the host answers (requestStep → stepData, requestHistory → history); rejects after the timeout. */
  request<B extends FromWebview & { type: keyof typeof WEBVIEW_REPLIES }>(body: B) {
    return this.endpoint.request(body);
  }

  private receive(data: unknown): void {
    if (typeof data !== 'object' || data === null) return;
    const envelope = data as Partial<Envelope<ToWebview>>;
    const body = envelope.body;
    if (typeof body !== 'object' || body === null || !TO_WEBVIEW_TYPES.has(body.type)) return;
    if (typeof envelope.id === 'number' && this.endpoint.receive(envelope as Envelope<ToWebview>)) return;
    for (const handler of this.handlers) handler(body);
  }
}
