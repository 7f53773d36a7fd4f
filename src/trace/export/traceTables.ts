// A run's per-step summaries as flat rows, the shape a notebook reads (pandas, polars, R): one
// row per step, one row per captured tensor per step. Shared by the CSV and JSON exports.
import type { LayerInfo, StepRecord } from '../../shared/traceTypes';

export const STEP_COLUMNS = ['step', 'loss', 'accuracy', 'testAccuracy', 'stepMs', 'testLoss'] as const;
export const TENSOR_COLUMNS = ['step', 'layer', 'name', 'role', 'param', 'mean', 'std', 'min', 'max', 'l2', 'zeroFraction', 'nanCount', 'infCount', 'count', 'deadUnitFraction'] as const;

export type Cell = number | string | undefined;
export type StepRow = Record<(typeof STEP_COLUMNS)[number], Cell>;
export type TensorRow = Record<(typeof TENSOR_COLUMNS)[number], Cell>;

export function stepRow(record: StepRecord): StepRow {
  return {
    step: record.step,
    loss: record.loss,
    accuracy: record.accuracy,
    testAccuracy: record.testAccuracy,
    stepMs: record.stepMs,
    testLoss: record.testLoss,
  };
}

/** The layer name of a summary: the model's, or "loss" for the loss's tensors (layer -1). */
export function layerName(layer: number, layers: LayerInfo[]): string {
  return layer < 0 ? 'loss' : (layers[layer]?.name ?? `layer ${layer}`);
}

export function tensorRows(record: StepRecord, layers: LayerInfo[]): TensorRow[] {
  return record.summaries.map((s) => ({
    step: record.step,
    layer: s.layer,
    name: layerName(s.layer, layers),
    role: s.role,
    param: s.param,
    mean: s.stats?.mean,
    std: s.stats?.std,
    min: s.stats?.min,
    max: s.stats?.max,
    l2: s.stats?.l2,
    zeroFraction: s.stats?.zeroFraction,
    nanCount: s.stats?.nanCount,
    infCount: s.stats?.infCount,
    count: s.stats?.count,
    deadUnitFraction: s.stats?.deadUnitFraction,
  }));
}
