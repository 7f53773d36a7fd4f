// One entry to the three exports, for the CLI and the extension: writes, and says what it wrote.
import * as path from 'node:path';
import { CorruptRecordError, DATA_FILE } from '../recordCodec';
import type { TraceReader } from '../traceReader';
import { writeCsv } from './csvExport';
import { writeJson } from './jsonExport';
import { writeTensorBoard } from './tensorboardEvents';

export type ExportFormat = 'tensorboard' | 'csv' | 'json';

/** Writes `run` as `format` to `target` (a folder; a file for JSON). A corrupt record is reported with its file. */
export function exportRun(run: TraceReader, format: ExportFormat, target: string): string {
  try {
    switch (format) {
      case 'tensorboard': {
        const r = writeTensorBoard(run, target);
        return `wrote ${r.file}: ${r.steps} steps, ${r.scalars} scalars, ${r.histograms} histograms (tensorboard --logdir ${path.dirname(r.file)})`;
      }
      case 'csv': {
        const r = writeCsv(run, target);
        return `wrote ${r.steps} (${r.stepRows} rows) and ${r.layers} (${r.tensorRows} rows)`;
      }
      case 'json': {
        const r = writeJson(run, target);
        return `wrote ${r.file}: ${r.steps} steps`;
      }
    }
  } catch (e) {
    if (e instanceof CorruptRecordError) throw new CorruptRecordError(`${path.join(run.dir, DATA_FILE)}: ${e.message}`);
    throw e;
  }
}
