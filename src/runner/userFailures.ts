// Errors in the user's asynchronous code that no one awaits (an async main whose fit call was
// refused, a rejected promise, a callback that throws outside a step): without a listener Node
// would end the runner on them, and the user would read "runner crashed". They are kept here,
// as errors located in the user's file, for the load or the next step boundary to report.
// tfjs-backend-wasm's emscripten glue listens too, and rethrows every unhandled rejection from
// its listener — which ends Node with exit code 7 ("runner crashed (code 7)"). Its listeners are
// set aside while this one watches, and put back on dispose.
import type { RunError } from '../shared/traceTypes';
import { LocatedError, toRunError } from './runError';

export class UserFailures {
  private first?: RunError;
  private readonly onRejection = (reason: unknown) => this.record(reason);
  private readonly setAside: NodeJS.UnhandledRejectionListener[];

  constructor(private readonly isUserFile: (file: string) => boolean) {
    this.setAside = process.listeners('unhandledRejection');
    for (const listener of this.setAside) process.off('unhandledRejection', listener);
    process.on('unhandledRejection', this.onRejection);
  }

  record(reason: unknown): void {
    if (this.first) return;
    const runError = toRunError(reason, this.isUserFile);
    // A rejection from the user's own code is theirs, wherever tfjs raised it from.
    this.first = runError.kind === 'internal' && runError.location ? { ...runError, kind: 'user-exception' } : runError;
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
    for (const listener of this.setAside) process.on('unhandledRejection', listener);
  }
}
