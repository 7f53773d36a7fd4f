// Errors in the user's asynchronous code that no one awaits (an async main whose fit call was
// refused, a rejected promise, a timer callback that throws): without a listener Node would end
// the runner on them, and the user would read "runner crashed". They are kept here, as errors
// located in the user's file, for the load or the next step boundary to report.
// tfjs-backend-wasm's emscripten glue listens too, and rethrows every unhandled rejection and
// uncaught exception from its listener — which ends Node with exit code 7 ("runner crashed
// (code 7)"). Its listeners are set aside while these watch, and put back on dispose; an
// uncaught exception that is not from the user's code still goes to them (the runner's own
// failure ends the runner, as before).
import type { RunError } from '../shared/traceTypes';
import { LocatedError, toRunError } from './runError';

export class UserFailures {
  private first?: RunError;
  private readonly onRejection = (reason: unknown) => this.record(reason);
  private readonly onException = (error: Error, origin: NodeJS.UncaughtExceptionOrigin) => {
    if (toRunError(error, this.isUserFile).location) return this.record(error);
    if (this.asideExceptions.length === 0) throw error;
    for (const listener of this.asideExceptions) listener(error, origin);
  };
  private readonly asideRejections: NodeJS.UnhandledRejectionListener[];
  private readonly asideExceptions: NodeJS.UncaughtExceptionListener[];

  constructor(private readonly isUserFile: (file: string) => boolean) {
    this.asideRejections = process.listeners('unhandledRejection');
    this.asideExceptions = process.listeners('uncaughtException');
    for (const listener of this.asideRejections) process.off('unhandledRejection', listener);
    for (const listener of this.asideExceptions) process.off('uncaughtException', listener);
    process.on('unhandledRejection', this.onRejection);
    process.on('uncaughtException', this.onException);
  }

  record(reason: unknown): void {
    this.first ??= toRunError(reason, this.isUserFile);
  }

  /** Throws the first recorded failure, if any (as a LocatedError, so it is reported as it is). */
  throwIfAny(step?: number): void {
    if (this.first) throw new LocatedError({ ...this.first, step: this.first.step ?? step });
  }

  get any(): boolean {
    return this.first !== undefined;
  }

  dispose(): void {
    process.off('unhandledRejection', this.onRejection);
    process.off('uncaughtException', this.onException);
    for (const listener of this.asideRejections) process.on('unhandledRejection', listener);
    for (const listener of this.asideExceptions) process.on('uncaughtException', listener);
  }
}
