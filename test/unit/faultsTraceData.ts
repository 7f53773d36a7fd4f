// A small run's metadata and records, for the trace-file fault tests.
import * as fs from 'node:fs';
import { summarize } from '../../src/runner/capture/summarize';
import type { RunMeta, StepRecord } from '../../src/shared/traceTypes';
import { TraceWriter, type TraceFs } from '../../src/trace/traceWriter';

export const meta: RunMeta = {
  formatVersion: 1,
  runId: 'faults',
  file: '/work/model.ts',
  createdAt: new Date(0).toISOString(),
  backend: { name: 'cpu', reason: 'test' },
  model: {
    name: 'm',
    kind: 'layers',
    inputShape: [null, 3],
    layers: [{ index: 0, name: 'dense_1', type: 'Dense', outputShape: [null, 3], inputShape: [null, 3], params: [], paramCount: 0, paramFormula: '0', nativeBackward: true, location: { file: '/work/model.ts', line: 4, column: 3 } }],
    totalParams: 0,
    trainableParams: 0,
  },
  config: { batchSize: 2, steps: 20, seed: 1, loss: 'meanSquaredError', optimizer: 'SGD', evalEvery: 0, capture: { summaries: true, sampleIndices: [0], keyframeEvery: 5, stepBudgetBytes: 1e6, keyframeBudgetBytes: 1e7 } },
  tfjsVersion: 'test',
};

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
