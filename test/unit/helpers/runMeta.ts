// A run description for trace tests that write records by hand: one dense layer of `units`
// inputs and outputs (with a kernel, or none); roomy budgets and no trace budget unless given.
import type { CapturePolicy, LayerInfo, RunMeta } from '../../../src/shared/traceTypes';

export interface TestMetaOptions {
  runId?: string;
  file?: string;
  units?: number;
  /** The layer has a units × units kernel (default) or no parameters. */
  kernel?: boolean;
  location?: LayerInfo['location'];
  batchSize?: number;
  steps?: number;
  capture?: Partial<CapturePolicy>;
  /** The model's layers instead of the one dense layer (their parameters make the totals). */
  layers?: LayerInfo[];
}

export function testRunMeta(o: TestMetaOptions = {}): RunMeta {
  const units = o.units ?? 2;
  const params = o.kernel === false ? [] : [{ name: 'kernel', shape: [units, units], count: units * units, trainable: true }];
  const layers: LayerInfo[] = o.layers ?? [
    { index: 0, name: 'dense_1', type: 'Dense', outputShape: [null, units], inputShape: [null, units], params, paramCount: params.reduce((n, p) => n + p.count, 0), paramFormula: String(params.reduce((n, p) => n + p.count, 0)), nativeBackward: true, ...(o.location ? { location: o.location } : {}) },
  ];
  const paramCount = layers.reduce((n, l) => n + l.paramCount, 0);
  return {
    formatVersion: 1,
    runId: o.runId ?? 'test',
    file: o.file ?? '/work/model.ts',
    createdAt: new Date(0).toISOString(),
    backend: { name: 'cpu', reason: 'test' },
    model: {
      name: 'm',
      kind: 'layers',
      inputShape: layers[0]?.inputShape ?? [null, units],
      layers,
      totalParams: paramCount,
      trainableParams: paramCount,
    },
    config: { batchSize: o.batchSize ?? 2, steps: o.steps ?? 2, seed: 1, loss: 'meanSquaredError', optimizer: 'SGD', evalEvery: 0, capture: { summaries: true, sampleIndices: [0], keyframeEvery: 50, stepBudgetBytes: 1e6, keyframeBudgetBytes: 1e7, ...o.capture } },
    tfjsVersion: 'test',
  };
}
