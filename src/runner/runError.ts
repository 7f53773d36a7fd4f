import type { RunError, SourceLocation } from '../shared/traceTypes';

/** An error that already knows how to tell the user what went wrong and where. */
export class LocatedError extends Error {
  constructor(readonly runError: RunError) {
    super(runError.message);
  }
}

const FRAME = /\(?((?:[A-Za-z]:)?[^\s():]+):(\d+):(\d+)\)?\s*$/;

/** Stack frames as locations, in order (source-mapped frames already point into .ts files). */
export function stackLocations(stack: string | undefined): SourceLocation[] {
  if (!stack) return [];
  const out: SourceLocation[] = [];
  for (const line of stack.split('\n')) {
    if (!line.trimStart().startsWith('at ')) continue;
    const m = FRAME.exec(line);
    if (m) out.push({ file: m[1], line: Number(m[2]), column: Number(m[3]) });
  }
  return out;
}

/** The first frame of the stack in one of the user's files. */
export function userFrame(stack: string | undefined, isUserFile: (file: string) => boolean): SourceLocation | undefined {
  return stackLocations(stack).find((loc) => isUserFile(loc.file));
}

export function toRunError(e: unknown, isUserFile: (file: string) => boolean, step?: number): RunError {
  if (e instanceof LocatedError) return { ...e.runError, step: e.runError.step ?? step };
  const err = e instanceof Error ? e : new Error(String(e));
  const location = userFrame(err.stack, isUserFile);
  return {
    kind: location ? 'user-exception' : 'internal',
    message: err.message,
    location,
    step,
    stack: err.stack,
  };
}
