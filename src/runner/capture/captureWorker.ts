// The capture worker thread: summarises and writes each step while the training thread goes on
// to the next one (the wasm backend is single-threaded, so the second core is free for this).
import { parentPort } from 'node:worker_threads';
import { TraceWriteError } from '../../trace/traceWriter';
import { RecordSink } from './recordSink';
import type { ToCaptureWorker } from './capturePipeline';

let sink: RecordSink | undefined;

parentPort?.on('message', (msg: ToCaptureWorker) => {
  try {
    switch (msg.type) {
      case 'open':
        sink = new RecordSink(msg.outDir, msg.meta);
        parentPort?.postMessage({ type: 'opened' });
        return;
      case 'step': {
        const t0 = performance.now();
        const written = sink!.write(msg.capture);
        parentPort?.postMessage({ type: 'written', written, busyMs: performance.now() - t0 });
        return;
      }
      case 'close':
        sink?.close(msg.end);
        parentPort?.postMessage({ type: 'closed' });
        return;
    }
  } catch (e) {
    // A failed write is the user's to fix (disk full, permissions): it goes to them as is.
    const error = e instanceof TraceWriteError ? e.toRunError(sink?.stepsWritten ?? 0) : undefined;
    parentPort?.postMessage({ type: 'error', message: (e as Error).stack ?? String(e), error });
  }
});
