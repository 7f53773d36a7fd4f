// A run as one JSON file: what the run was (file, model, backend, config) and the same rows as
// the CSV export, each tensor row with its 64-bin histogram and range. JSON has no NaN or
// Infinity: those are null (nanCount and infCount say which values were not finite). Written a
// step at a time.
import * as fs from 'node:fs';
import type { TraceReader } from '../traceReader';
import { stepRow, tensorRows } from './traceTables';

const finiteOrNull = (_key: string, v: unknown): unknown => (typeof v === 'number' && !Number.isFinite(v) ? null : v);

export interface JsonExport {
  file: string;
  steps: number;
}

export function writeJson(run: Pick<TraceReader, 'meta' | 'stepCount' | 'entry' | 'readStep'>, file: string): JsonExport {
  const { meta } = run;
  const header = {
    run: {
      runId: meta.runId,
      file: meta.file,
      createdAt: meta.createdAt,
      backend: meta.backend.name,
      model: { name: meta.model.name, kind: meta.model.kind, totalParams: meta.model.totalParams, layers: meta.model.layers.map((l) => ({ index: l.index, name: l.name, type: l.type, outputShape: l.outputShape, params: l.params })) },
      config: meta.config,
      classNames: meta.classNames,
    },
  };
  const fd = fs.openSync(file, 'w');
  let steps = 0;
  try {
    // The header object without its closing brace, then the steps array a record at a time.
    fs.writeSync(fd, `${JSON.stringify(header, finiteOrNull).slice(0, -1)},"steps":[`);
    for (let i = 0; i < run.stepCount; i++) {
      const record = run.readStep(run.entry(i).step);
      const rows = tensorRows(record, meta.model.layers);
      // Each tensor row without its step (the step object holds it), with shape and histogram.
      const tensors = rows.map(({ step: _step, ...row }, k) => {
        const s = record.summaries[k];
        return { ...row, shape: s.shape, histogramRange: s.stats ? [s.stats.min, s.stats.max] : undefined, histogram: s.stats ? Array.from(s.stats.histogram) : undefined };
      });
      fs.writeSync(fd, `${steps > 0 ? ',' : ''}\n${JSON.stringify({ ...stepRow(record), tensors }, finiteOrNull)}`);
      steps++;
    }
    fs.writeSync(fd, '\n]}\n');
  } finally {
    fs.closeSync(fd);
  }
  return { file, steps };
}
