// The runner child process: loads tfjs on the best backend, then serves requests from the
// extension host or the CLI over IPC (see src/shared/protocol.ts). It runs the user's code, so
// it lives apart from the extension host and can be killed at any time.
// First, before any package loads: the clock starts, and the packages' source maps stay unread.
import { markStage, takeTimingReport } from './startupTiming';
import { packagesLoaded } from './packageSourceMaps';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Envelope, FromRunner, ToRunner } from '../shared/protocol';
import type { BackendInfo } from '../shared/traceTypes';
import { selectBackend, type BackendPreference } from './backend';
import { wasmThreadsFromEnv } from './wasmThreads';
import { watchParent } from './parentWatch';
import { prepareRun } from './prepareRun';
import { toRunError } from './runError';
import { TrainingSession } from './session';
import { bootCaptureWorker } from './capture/capturePipeline';
import { disposeSpec, startBundler } from './userModule';

let nextId = 1;
let session: TrainingSession | undefined;
let backend: BackendInfo;

let lastSent: Promise<void> = Promise.resolve();

function send(body: FromRunner, inReplyTo?: number): void {
  markStage(body.type === 'state' ? `state ${body.state}` : body.type);
  lastSent = new Promise((resolve) => {
    const sent = process.send?.({ id: nextId++, inReplyTo, body } satisfies Envelope<FromRunner>, undefined, {}, () => resolve());
    if (!sent && !process.connected) resolve();
  });
  // The first step is as far as a start goes: say where its time went.
  const timing = body.type === 'stepDone' ? takeTimingReport() : undefined;
  if (timing) send({ type: 'log', level: 'info', text: timing });
}

/** Exits once every message is on its way (process.exit would drop queued IPC messages). */
function exitWhenSent(code: number): void {
  void lastSent.then(() => process.exit(code));
}

function forwardConsole(): void {
  const levels = { log: 'info', info: 'info', warn: 'warn', error: 'error' } as const;
  for (const [method, level] of Object.entries(levels)) {
    (console as unknown as Record<string, (...a: unknown[]) => void>)[method] = (...args: unknown[]) =>
      send({ type: 'log', level, text: args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ') });
  }
}

async function handle(env: Envelope<ToRunner>): Promise<void> {
  const msg = env.body;
  markStage(`request ${msg.type}`);
  switch (msg.type) {
    case 'load': {
      // Builds the model without training; everything it allocated is freed afterwards.
      tf.engine().startScope();
      try {
        if (msg.cwd) process.chdir(msg.cwd);
        const run = await prepareRun(msg.file);
        send({ type: 'summary', model: run.tracer.summary, config: run.config, backend }, env.id);
        disposeSpec(run.spec);
      } catch (e) {
        send({ type: 'failed', error: toRunError(e, () => false) }, env.id);
      } finally {
        tf.engine().endScope();
        // The next load runs the file again: its named variables must be free to register.
        tf.disposeVariables();
      }
      return;
    }
    case 'start': {
      if (session) {
        send({ type: 'failed', error: { kind: 'internal', message: 'A run is already in progress in this runner.' } }, env.id);
        return;
      }
      let run;
      // The capture worker boots while the run is prepared, not after (cold start).
      const worker = bootCaptureWorker();
      worker.once('online', () => markStage('capture worker online'));
      try {
        if (msg.cwd) process.chdir(msg.cwd);
        run = await prepareRun(msg.file, msg.overrides);
      } catch (e) {
        void worker.terminate();
        send({ type: 'failed', error: toRunError(e, (f) => f === path.resolve(msg.file)) }, env.id);
        send({ type: 'state', state: 'failed', step: 0 });
        return;
      }
      markStage('prepared');
      session = new TrainingSession(run, send, msg.startPaused ?? false);
      const meta = session.meta(backend, msg.lesson, path.basename(msg.outDir));
      // Started means the trace exists: a caller may open it as soon as it hears this.
      await session.open(msg.outDir, meta, worker);
      send({ type: 'started', meta, traceDir: msg.outDir }, env.id);
      await session.train(msg.typeCheck ?? 'warn');
      return;
    }
    case 'control':
      session?.control(msg.action, msg.toStep);
      send({ type: 'ack' }, env.id);
      return;
    case 'stop':
      if (session) session.stop();
      else exitWhenSent(0);
      return;
  }
}

async function main(): Promise<void> {
  markStage('loaded');
  // First: from here on the runner cannot outlive its parent, whatever the user's code does.
  watchParent();
  forwardConsole();
  markStage('watching parent');
  // Boots while the backend does: bundling the user's file is the first thing a run does.
  startBundler();
  backend = await selectBackend((process.env.GRADIENT_LENS_BACKEND as BackendPreference) || 'auto', wasmThreadsFromEnv());
  packagesLoaded();
  process.on('message', (env: Envelope<ToRunner>) => {
    handle(env).then(
      () => {
        if (env.body.type === 'start') exitWhenSent(0);
      },
      (e) => {
        send({ type: 'failed', error: toRunError(e, () => false) }, env.id);
        // A run that could not go on (its trace could not be written) ends the runner, as one that finished does.
        if (env.body.type === 'start') {
          send({ type: 'state', state: 'failed', step: 0 });
          exitWhenSent(1);
        }
      },
    );
  });
  process.on('disconnect', () => process.exit(0));
  send({ type: 'hello', pid: process.pid, backend });
}

void main();
