// Keeps the runner from outliving its parent and says where the user's code is busy. Both need
// a thread the user's code cannot block: a loop in their data function stops this thread's
// event loop, so the 'disconnect' handler never runs and an IPC message never goes out. The
// watch worker (parentWatchWorker.ts) polls the parent and this thread's heartbeat, and reports
// on a file descriptor of its own, written synchronously.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';

/** The descriptor the host opens for busy reports (after stdin, stdout, stderr and IPC). */
export const BUSY_REPORT_FD = 4;

export interface ParentWatchData {
  parentPid: number;
  /** Int32 slot 0: bumped by this thread every HEARTBEAT_MS while its event loop turns. */
  heartbeat: SharedArrayBuffer;
  heartbeatMs: number;
  /** Where the runner's own code lives: frames there (and in node_modules) are not the user's. */
  runnerDir: string;
  reportFd: number;
}

const HEARTBEAT_MS = 250;

export function watchParent(): void {
  const script = path.join(__dirname, 'parentWatchWorker.js');
  if (!fs.existsSync(script)) throw new Error(`${script} is missing: run \`npm run build\``);
  const heartbeat = new SharedArrayBuffer(4);
  const beats = new Int32Array(heartbeat);
  setInterval(() => Atomics.add(beats, 0, 1), HEARTBEAT_MS).unref();
  const data: ParentWatchData = { parentPid: process.ppid, heartbeat, heartbeatMs: HEARTBEAT_MS, runnerDir: __dirname, reportFd: BUSY_REPORT_FD };
  new Worker(script, { workerData: data }).unref();
}
