// `gradient-lens diff RUN_A RUN_B [--tolerance T]`: where two recorded runs first differ, and how
// much each layer changed. Exit 0 when identical, 1 when they differ, 2 on bad input.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { CorruptRecordError } from '../trace/recordCodec';
import { diffRuns } from '../trace/runDiff';
import type { DiffableRun } from '../trace/runDiff';
import { formatRunDiff } from '../trace/runDiffReport';
import { TraceOpenError, TraceReader } from '../trace/traceReader';

export const DIFF_USAGE = `  gradient-lens diff RUN_A RUN_B [--tolerance T] [--json]
                                             where two runs first differ (step, phase, layer) and
                                             each layer's largest changes; exit 0 identical, 1 differ`;

/** Bad input: printed with the usage, exit 2. */
export class CommandInputError extends Error {}

export function openRun(dir: string | undefined, what: string): TraceReader {
  if (!dir) throw new CommandInputError(`missing ${what}`);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new CommandInputError(`${dir}: no such trace folder`);
  try {
    return TraceReader.open(dir);
  } catch (e) {
    if (e instanceof TraceOpenError) throw new CommandInputError(e.message);
    throw e;
  }
}

function parseTolerance(value: string | undefined): number {
  if (value === undefined) return 0;
  const t = Number(value);
  if (value.trim() === '' || !Number.isFinite(t) || t < 0) throw new CommandInputError(`--tolerance must be a number ≥ 0, got '${value}'`);
  return t;
}

function describeRun(label: string, r: TraceReader): string {
  const m = r.meta;
  return `${label}: ${r.dir}  (${path.basename(m.file)}, ${m.backend.name}, seed ${m.config.seed}, ${r.stepCount} steps${r.damage.length ? `, damaged: ${r.damage.join('; ')}` : ''})`;
}

/** A run whose corrupt records are reported with the file they are in. */
export function locatedRun(r: TraceReader): DiffableRun {
  return {
    meta: r.meta,
    stepCount: r.stepCount,
    entry: (i) => r.entry(i),
    readStep: (step) => {
      try {
        return r.readStep(step);
      } catch (e) {
        // The reader's message names the file and the byte already.
        if (e instanceof CorruptRecordError) throw new CommandInputError(e.message);
        throw e;
      }
    },
  };
}

/** Runs the command; returns the exit code. Writes the report to stdout and bad input to stderr. */
export function diffCommand(args: string[]): number {
  let a: TraceReader | undefined;
  let b: TraceReader | undefined;
  try {
    const { positionals, values } = parseArgs({ args, allowPositionals: true, options: { tolerance: { type: 'string' }, json: { type: 'boolean' } } });
    if (positionals.length > 2) throw new CommandInputError(`expected two trace folders, got ${positionals.length}`);
    const tolerance = parseTolerance(values.tolerance);
    a = openRun(positionals[0], 'RUN_A');
    b = openRun(positionals[1], 'RUN_B');
    const diff = diffRuns(locatedRun(a), locatedRun(b), { tolerance });
    if (values.json) console.log(JSON.stringify(diff, null, 2));
    else console.log([describeRun('A', a), describeRun('B', b), ...formatRunDiff(diff)].join('\n'));
    return diff.identical ? 0 : 1;
  } catch (e) {
    if (e instanceof CommandInputError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`gradient-lens diff: ${(e as Error).message}\nusage:\n${DIFF_USAGE}\n`);
      return 2;
    }
    throw e;
  } finally {
    a?.close();
    b?.close();
  }
}
