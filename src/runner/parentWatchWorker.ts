// The runner's watch thread (see parentWatch.ts). It ends the whole process when the parent is
// gone, and when the main thread's heartbeat stops it learns where that thread is by pausing it
// through the inspector for a moment and reads a source-mapped stack there.
import * as fs from 'node:fs';
import * as inspector from 'node:inspector';
import * as path from 'node:path';
import { workerData } from 'node:worker_threads';
import type { BusyReport } from '../shared/messageValidators';
import type { SourceLocation } from '../shared/traceTypes';
import type { ParentWatchData } from './parentWatch';
import { stackLocations } from './runError';

const data = workerData as ParentWatchData;
const POLL_MS = 200;
/** A main thread silent this long is worth a look (a step of a big model takes well under this). */
const BUSY_AFTER_MS = 2_000;
const PROBE_EVERY_MS = 5_000;
const PROBE_TIMEOUT_MS = 2_000;

function parentGone(): boolean {
  if (process.ppid !== data.parentPid) return true;
  try {
    process.kill(data.parentPid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function isUserFrame(loc: SourceLocation): boolean {
  return path.isAbsolute(loc.file) && !loc.file.startsWith(data.runnerDir + path.sep) && !loc.file.includes(`${path.sep}node_modules${path.sep}`);
}

/** Pauses the main thread, reads its stack (mapped through the bundle's source maps), resumes it. */
function probeMainThread(): Promise<SourceLocation[]> {
  return new Promise((resolve) => {
    const session = new inspector.Session();
    let settled = false;
    const finish = (frames: SourceLocation[]) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      session.post('Debugger.resume', () => session.post('Debugger.disable', () => session.disconnect()));
      resolve(frames);
    };
    const timer = setTimeout(() => finish([]), PROBE_TIMEOUT_MS);
    try {
      session.connectToMainThread();
    } catch {
      finish([]);
      return;
    }
    session.once('Debugger.paused', ({ params }) => {
      const top = params.callFrames[0];
      if (!top) return finish([]);
      session.post('Debugger.evaluateOnCallFrame', { callFrameId: top.callFrameId, expression: 'new Error().stack', silent: true }, (err, reply) => {
        const stack = !err && typeof reply.result.value === 'string' ? reply.result.value : undefined;
        finish(stackLocations(stack));
      });
    });
    session.post('Debugger.enable', () => session.post('Debugger.pause'));
  });
}

function report(forMs: number, frames: SourceLocation[]): void {
  const user = frames.filter(isUserFrame);
  const line = JSON.stringify({ type: 'busy', forMs, location: user[0], frames: user.slice(0, 5) } satisfies BusyReport);
  try {
    fs.writeSync(data.reportFd, `${line}\n`);
  } catch {
    // No report channel (a runner started by hand): the parent watch still holds.
  }
}

const beats = new Int32Array(data.heartbeat);
let lastBeat = Atomics.load(beats, 0);
let lastBeatAt = Date.now();
let lastProbeAt = 0;
let probing = false;

setInterval(() => {
  // SIGKILL, not process.exit: exit from a worker ends only the worker.
  if (parentGone()) process.kill(process.pid, 'SIGKILL');
  const beat = Atomics.load(beats, 0);
  const now = Date.now();
  if (beat !== lastBeat) {
    lastBeat = beat;
    lastBeatAt = now;
    return;
  }
  const silentMs = now - lastBeatAt;
  if (silentMs < BUSY_AFTER_MS || probing || now - lastProbeAt < PROBE_EVERY_MS) return;
  probing = true;
  lastProbeAt = now;
  void probeMainThread().then((frames) => {
    probing = false;
    report(Date.now() - lastBeatAt, frames);
  });
}, POLL_MS);
