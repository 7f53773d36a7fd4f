// The words for a runner that has gone quiet: how long, what it is doing if its watch thread
// could tell (see src/runner/parentWatchWorker.ts), and that the caller can stop it.
import * as path from 'node:path';
import type { BusyReport } from '../shared/messageValidators';
import type { SourceLocation } from '../shared/traceTypes';

/** What the runner was asked to do when it went quiet. */
export type QuietDuring = { kind: 'load'; file: string } | { kind: 'run'; stepsDone: number };

const seconds = (ms: number): string => `${Math.round(ms / 1000)} s`;
const at = (loc: SourceLocation): string => `${loc.file}:${loc.line}:${loc.column}`;

/** Where the runner is busy, as a clause: " at model.ts:12:5 (in your code)". */
export function whereBusy(busy: BusyReport | undefined): string {
  if (!busy) return 'where it is busy is unknown (its watch thread has not reported)';
  if (busy.location) return `it is busy in your code at ${at(busy.location)}`;
  return 'it is busy outside your code (inside tfjs or the runner: a large step?)';
}

export function describeStall(silentMs: number, during: QuietDuring, busy: BusyReport | undefined): string {
  if (during.kind === 'load') return `${path.basename(during.file)} has been loading for ${seconds(silentMs)} (its top-level code has not returned); ${whereBusy(busy)}`;
  const what = during.stepsDone === 0 ? 'the first step has not completed' : `no step has completed for ${seconds(silentMs)} (after step ${during.stepsDone - 1})`;
  const hint = busy?.location ? ' (a loop in the data function?)' : '';
  return `${what}; ${whereBusy(busy)}${hint}`;
}

export function describeTimeout(request: 'load' | 'start', file: string, timeoutMs: number, busy: BusyReport | undefined): string {
  const name = path.basename(file);
  const what = request === 'load' ? `${name} did not finish building its model within ${seconds(timeoutMs)}` : `${name} did not start training within ${seconds(timeoutMs)}`;
  const hint = busy?.location ? ' (a loop at module load?)' : '';
  return `${what}; ${whereBusy(busy)}${hint}. The runner was stopped.`;
}
