// `gradient-lens export RUN --tensorboard DIR | --csv DIR | --json FILE`: a recorded run in a
// form other tools read. Exit 0 when written, 2 on bad input.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { exportRun } from '../trace/export/exportRun';
import type { ExportFormat } from '../trace/export/exportRun';
import { CorruptRecordError } from '../trace/recordCodec';
import type { TraceReader } from '../trace/traceReader';
import { CommandInputError, openRun } from './diffCommand';

export const EXPORT_USAGE = `  gradient-lens export RUN --tensorboard DIR | --csv DIR | --json FILE
                                             write the run as a TensorBoard event file, as
                                             steps.csv + layers.csv, or as one JSON file`;

function chooseFormat(values: { tensorboard?: string; csv?: string; json?: string }): [ExportFormat, string] {
  const chosen = (['tensorboard', 'csv', 'json'] as const).filter((f) => values[f] !== undefined);
  if (chosen.length !== 1) throw new CommandInputError(chosen.length === 0 ? 'say where to: --tensorboard DIR, --csv DIR or --json FILE' : `one format at a time, got --${chosen.join(' and --')}`);
  const format = chosen[0];
  const target = path.resolve(values[format] as string);
  if (format === 'json') {
    if (fs.existsSync(target) && fs.statSync(target).isDirectory()) throw new CommandInputError(`--json ${values.json}: is a folder; give a file name`);
    if (!fs.existsSync(path.dirname(target))) throw new CommandInputError(`--json ${values.json}: no such folder ${path.dirname(target)}`);
  } else if (fs.existsSync(target) && !fs.statSync(target).isDirectory()) {
    throw new CommandInputError(`--${format} ${values[format]}: is a file; give a folder`);
  }
  return [format, target];
}

export function exportCommand(args: string[]): number {
  let run: TraceReader | undefined;
  try {
    const { positionals, values } = parseArgs({
      args,
      allowPositionals: true,
      options: { tensorboard: { type: 'string' }, csv: { type: 'string' }, json: { type: 'string' } },
    });
    if (positionals.length > 1) throw new CommandInputError(`expected one trace folder, got ${positionals.length}`);
    const [format, target] = chooseFormat(values);
    run = openRun(positionals[0], 'RUN');
    for (const d of run.damage) process.stderr.write(`gradient-lens export: note: ${d}\n`);
    console.log(exportRun(run, format, target));
    return 0;
  } catch (e) {
    if (e instanceof CommandInputError || e instanceof CorruptRecordError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`gradient-lens export: ${(e as Error).message}\nusage:\n${EXPORT_USAGE}\n`);
      return 2;
    }
    throw e;
  } finally {
    run?.close();
  }
}
