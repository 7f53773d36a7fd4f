// The capture worker thread: summarises and writes each step while the training thread goes on
// to the next one (the wasm backend is single-threaded, so the second core is free for this).
import { parentPort } from 'node:worker_threads';
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
    parentPort?.postMessage({ type: 'error', message: (e as Error).stack ?? String(e) });
  }
});
