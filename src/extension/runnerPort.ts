// What a session needs from a runner process. The engine's RunnerClient (src/host) provides it;
// runnerProcess.ts adapts it, so the rest of the extension depends on this one small interface.
import type * as vscode from 'vscode';
import type { StallNotice } from '../host/runnerClient';
import type { ControlAction, FromRunner, StartRequest, Started, SummaryReply } from '../shared/protocol';

export interface RunnerPort {
  readonly pid: number | undefined;
  /** Settles when the process has exited (for whatever reason). */
  readonly exited: Promise<unknown>;
  onMessage(listener: (message: FromRunner) => void): vscode.Disposable;
  /** The runner has made no progress for a while (busy in the user's code, say). */
  onStall(listener: (notice: StallNotice) => void): vscode.Disposable;
  load(file: string): Promise<SummaryReply>;
  start(request: Omit<StartRequest, 'type'>): Promise<Started>;
  control(action: ControlAction, toStep?: number): Promise<unknown>;
  /** Asks the runner to finish and exit; kills it after a grace period. */
  stop(): Promise<void>;
  /** Kills the process now if it still runs. */
  dispose(): void;
}
