// The capture worker thread: summarises each step's copied-out tensors, builds its record, encodes
// and writes it while the training thread goes on to the next step (the wasm backend is
// single-threaded, so the second core is free for this).
// It answers every request (src/shared/protocol.ts, ToCaptureWorker) with a reply to its id, in
// the order they came.
import { parentPort } from 'node:worker_threads';
import { Endpoint } from '../../shared/endpoint';
import { parseCaptureRequest } from '../../shared/messageValidators';
import type { Envelope, FromCaptureWorker, ToCaptureWorker } from '../../shared/protocol';
import type { CapturePolicy, LayerInfo } from '../../shared/traceTypes';
import { TraceWriteError } from '../../trace/traceWriter';
import { buildStepRecord, transferList } from './recordBuilder';
import { warmUp } from './warmUp';
import { RecordSink } from './recordSink';

let sink: RecordSink | undefined;
let policy: CapturePolicy | undefined;
let layers: LayerInfo[] = [];
let progress: Int32Array | undefined;

// This side only replies: it asks nothing, so it expects no reply kinds and never times out.
const replies = new Endpoint<FromCaptureWorker, ToCaptureWorker, Record<never, never>>(
  (env) => parentPort?.postMessage(env, env.body.type === 'written' ? (env.body.buffers ?? []) : []),
  {},
  0,
);

function answer(request: ToCaptureWorker): FromCaptureWorker {
  switch (request.type) {
    case 'open':
      sink = new RecordSink(request.outDir, request.meta);
      policy = request.meta.config.capture;
      layers = request.meta.model.layers;
      progress = new Int32Array(request.progress);
      return { type: 'opened' };
    case 'step': {
      if (!sink || !policy) throw new Error('a step before the trace was opened');
      const t0 = performance.now();
      const { step, stepMs, testLoss, testAccuracy } = request;
      const heldOut = { ...(testLoss !== undefined ? { testLoss } : {}), ...(testAccuracy !== undefined ? { testAccuracy } : {}) };
      const written = sink.write({ ...buildStepRecord(step, policy, layers), stepMs, ...heldOut });
      if (progress) Atomics.add(progress, 0, 1);
      // Written and encoded: nothing here holds the copies any more, so their memory goes back.
      return { type: 'written', ...written, busyMs: performance.now() - t0, buffers: transferList(step) };
    }
    case 'record': {
      if (!sink) throw new Error('a step before the trace was opened');
      const t0 = performance.now();
      const written = sink.write(request.record);
      if (progress) Atomics.add(progress, 0, 1);
      return { type: 'written', ...written, busyMs: performance.now() - t0 };
    }
    case 'close':
      sink?.close(request.end);
      return { type: 'closed' };
  }
}

parentPort?.on('message', (raw: unknown) => {
  let env: Envelope<ToCaptureWorker> | undefined;
  try {
    env = parseCaptureRequest(raw);
    replies.post(answer(env.body), env.id);
    if (env.body.type === 'open' && policy) warmUp(policy, layers);
  } catch (e) {
    // A failed write is the user's to fix (disk full, permissions): it goes to them as is.
    const error = e instanceof TraceWriteError ? e.toRunError(sink?.stepsWritten ?? 0) : undefined;
    const inReplyTo = env?.id ?? (raw as Partial<Envelope<unknown>>)?.id;
    replies.post({ type: 'captureFailed', message: (e as Error).stack ?? String(e), error }, typeof inReplyTo === 'number' ? inReplyTo : undefined);
  }
});
