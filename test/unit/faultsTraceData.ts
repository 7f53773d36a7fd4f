// A small run's metadata and records, for the trace-file fault tests.
import * as fs from 'node:fs';
import { summarize } from '../../src/runner/capture/summarize';
import type { RunMeta, StepRecord } from '../../src/shared/traceTypes';
import { TraceWriter, type TraceFs } from '../../src/trace/traceWriter';
import { testRunMeta } from './helpers/runMeta';

export const meta: RunMeta = testRunMeta({
  runId: 'faults',
  units: 3,
  kernel: false,
  location: { file: '/work/model.ts', line: 4, column: 3 },
  steps: 20,
  capture: { keyframeEvery: 5 },
});

/** A step with one activation summary and its values: a few hundred bytes, stored raw above 64k values. */
export function record(step: number, values = 6): StepRecord {
  const data = Float32Array.from({ length: values }, (_, i) => Math.cos(i + step));
  return {
    step,
    loss: 1 / (step + 1),
    stepMs: 1,
    keyframe: false,
    summaries: [{ layer: 0, role: 'activation', shape: [1, values], stats: summarize(data, [1, values]) }],
    tensors: [{ layer: 0, role: 'activation', scope: 'sample', sampleIndices: [0], shape: [1, values], values: data }],
  };
}

export function writeRun(dir: string, steps: number, values = 6, files: TraceFs = fs): TraceWriter {
  const w = new TraceWriter(dir, meta, files);
  for (let s = 0; s < steps; s++) w.append(record(s, values));
  return w;
}
