// A run as two CSV files in a folder: steps.csv (one row a step) and layers.csv (one row per
// captured tensor per step). RFC 4180 quoting; numbers in JavaScript's shortest round-trip form;
// NaN and ±Infinity as "NaN", "Infinity", "-Infinity" (pandas and R read them); empty when not
// recorded. Written a step at a time, so a long run never sits in memory.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TraceReader } from '../traceReader';
import { STEP_COLUMNS, TENSOR_COLUMNS, stepRow, tensorRows } from './traceTables';
import type { Cell } from './traceTables';

export const STEPS_CSV = 'steps.csv';
export const LAYERS_CSV = 'layers.csv';

export function csvCell(v: Cell): string {
  if (v === undefined) return '';
  if (typeof v === 'number') return String(v);
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

function csvLine<K extends string>(columns: readonly K[], row: Record<K, Cell>): string {
  return `${columns.map((c) => csvCell(row[c])).join(',')}\n`;
}

export interface CsvExport {
  steps: string;
  layers: string;
  stepRows: number;
  tensorRows: number;
}

export function writeCsv(run: Pick<TraceReader, 'meta' | 'stepCount' | 'entry' | 'readStep'>, dir: string): CsvExport {
  fs.mkdirSync(dir, { recursive: true });
  const result: CsvExport = { steps: path.join(dir, STEPS_CSV), layers: path.join(dir, LAYERS_CSV), stepRows: 0, tensorRows: 0 };
  const steps = fs.openSync(result.steps, 'w');
  const layers = fs.openSync(result.layers, 'w');
  try {
    fs.writeSync(steps, `${STEP_COLUMNS.join(',')}\n`);
    fs.writeSync(layers, `${TENSOR_COLUMNS.join(',')}\n`);
    for (let i = 0; i < run.stepCount; i++) {
      const record = run.readStep(run.entry(i).step);
      fs.writeSync(steps, csvLine(STEP_COLUMNS, stepRow(record)));
      result.stepRows++;
      const rows = tensorRows(record, run.meta.model.layers);
      fs.writeSync(layers, rows.map((r) => csvLine(TENSOR_COLUMNS, r)).join(''));
      result.tensorRows += rows.length;
    }
  } finally {
    fs.closeSync(steps);
    fs.closeSync(layers);
  }
  return result;
}
