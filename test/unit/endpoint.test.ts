// The shared request/reply endpoint: replies matched by id and checked against the kinds their
// request expects, timeouts, and a closed peer.
import * as assert from 'node:assert/strict';
import { Endpoint, RequestError } from '../../src/shared/endpoint';
import type { Envelope } from '../../src/shared/protocol';

type Out = { type: 'ask'; n: number } | { type: 'note' };
type In = { type: 'answer'; n: number } | { type: 'other' } | { type: 'event' };
const REPLIES = { ask: ['answer'] } as const;

function pair(timeoutMs = 1000) {
  const sent: Envelope<Out>[] = [];
  const endpoint = new Endpoint<Out, In, typeof REPLIES>((e) => sent.push(e), REPLIES, timeoutMs);
  return { sent, endpoint };
}

describe('request/reply endpoint (src/shared)', function () {
  it('resolves a request with the reply that names it, of the kind it expects', async function () {
    const { sent, endpoint } = pair();
    const reply = endpoint.request({ type: 'ask', n: 2 });
    assert.equal(sent.length, 1);
    assert.equal(endpoint.receive({ id: 99, body: { type: 'event' } }), false, 'a message that replies to nothing is the caller\'s');
    assert.equal(endpoint.receive({ id: 100, inReplyTo: sent[0].id, body: { type: 'answer', n: 4 } }), true);
    assert.deepEqual(await reply, { type: 'answer', n: 4 });
    assert.equal(endpoint.waiting, 0);
  });

  it('rejects a reply of another kind (an ack sent as the reply to start)', async function () {
    const { sent, endpoint } = pair();
    const reply = endpoint.request({ type: 'ask', n: 1 });
    endpoint.receive({ id: 5, inReplyTo: sent[0].id, body: { type: 'other' } });
    await assert.rejects(reply, (e: RequestError) => e.reason === 'unexpected-reply' && /ask #1: expected answer, got other/.test(e.message));
  });

  it('times out, and rejects what waits when the peer is gone', async function () {
    const { endpoint } = pair(20);
    await assert.rejects(endpoint.request({ type: 'ask', n: 1 }), (e: RequestError) => e.reason === 'timeout');
    const { endpoint: other } = pair(10_000);
    const waiting = other.request({ type: 'ask', n: 1 });
    other.rejectAll('the runner exited');
    await assert.rejects(waiting, (e: RequestError) => e.reason === 'closed' && /the runner exited/.test(e.message));
    assert.equal(other.waiting, 0);
  });

  it('says when a request could not be sent', async function () {
    const endpoint = new Endpoint<Out, In, typeof REPLIES>(() => {
      throw new Error('channel closed');
    }, REPLIES, 1000);
    await assert.rejects(endpoint.request({ type: 'ask', n: 1 }), (e: RequestError) => e.reason === 'closed' && /channel closed/.test(e.message));
  });

  it('rejects with the failure a reply carries, with its own timeout error, and tells what was sent and what waits', async function () {
    type In2 = In | { type: 'failed'; why: string };
    const sent: Envelope<Out>[] = [];
    const endpoint = new Endpoint<Out, In2, typeof REPLIES>((e) => sent.push(e), REPLIES, 30, {
      failure: (r) => (r.type === 'failed' ? new Error(`failed: ${r.why}`) : undefined),
      timeoutError: (req, ms) => new Error(`${req.type} took over ${ms} ms`),
    });
    const failing = endpoint.request({ type: 'ask', n: 1 });
    const id = sent[0].id;
    assert.deepEqual(endpoint.waitingFor(id), { request: 'ask', expects: ['answer'] });
    assert.equal(endpoint.sent(id), true);
    assert.equal(endpoint.sent(id + 1), false, 'an id never sent');
    endpoint.receive({ id: 9, inReplyTo: id, body: { type: 'failed', why: 'syntax' } });
    await assert.rejects(failing, /failed: syntax/);
    assert.equal(endpoint.waitingFor(id), undefined);
    const slow = endpoint.request({ type: 'ask', n: 2 });
    await assert.rejects(slow, /ask took over 30 ms/);
    assert.equal(endpoint.takeExpired(sent[1].id), true, 'a late reply to a timed-out request is expected once');
    assert.equal(endpoint.takeExpired(sent[1].id), false);
  });
});
