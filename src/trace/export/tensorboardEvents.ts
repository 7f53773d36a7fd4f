// A run as a TensorBoard event file: one `Event` per recorded step with its scalars (loss,
// accuracy, held-out metrics, each layer's ‖∂W‖ and update ratio) and histograms (each layer's
// activation, ∂L/∂a, weights, their gradient and update), after the `file_version` event
// TensorBoard expects first. Field numbers from tensorflow/core/util/event.proto and
// tensorflow/core/framework/summary.proto.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { LayerInfo, StepRecord, TensorRole, TensorStats, TensorSummary } from '../../shared/traceTypes';
import type { TraceReader } from '../traceReader';
import { ProtoWriter } from './protobufWriter';
import { tfRecord } from './tfrecord';

const EVENT = { wallTime: 1, step: 2, fileVersion: 3, summary: 5 } as const;
const SUMMARY = { value: 1 } as const;
const VALUE = { tag: 1, simpleValue: 2, histo: 5 } as const;
const HISTOGRAM = { min: 1, max: 2, num: 3, sum: 4, sumSquares: 5, bucketLimit: 6, bucket: 7 } as const;
export const FILE_VERSION = 'brain.Event:2';

export interface ScalarPoint {
  tag: string;
  value: number;
}

export interface HistogramPoint {
  tag: string;
  stats: TensorStats;
}

/** TensorBoard tags are path-like; keep names to the characters TensorFlow itself allows. */
export function tagPart(name: string): string {
  return name.replace(/[^\w.-]+/g, '_');
}

/** The scalars of one step, named for TensorBoard's grouping by the part before the first '/'. */
export function stepScalars(record: StepRecord, layers: LayerInfo[]): ScalarPoint[] {
  const out: ScalarPoint[] = [{ tag: 'train/loss', value: record.loss }];
  if (record.accuracy !== undefined) out.push({ tag: 'train/accuracy', value: record.accuracy });
  if (record.testLoss !== undefined) out.push({ tag: 'test/loss', value: record.testLoss });
  if (record.testAccuracy !== undefined) out.push({ tag: 'test/accuracy', value: record.testAccuracy });
  const find = (layer: number, role: TensorRole, param: string) => record.summaries.find((s) => s.layer === layer && s.role === role && s.param === param)?.stats;
  for (const layer of layers) {
    // The layer's main parameter (a kernel; a batch norm's gamma), as the panel's health does.
    const main = layer.params[0]?.name;
    if (!main) continue;
    const grad = find(layer.index, 'gradParam', main);
    const weight = find(layer.index, 'param', main);
    const delta = find(layer.index, 'delta', main);
    if (grad) out.push({ tag: `grad_norm/${tagPart(layer.name)}`, value: grad.l2 });
    if (delta && weight && weight.l2 > 0) out.push({ tag: `update_ratio/${tagPart(layer.name)}`, value: delta.l2 / weight.l2 });
  }
  return out;
}

const HISTOGRAM_ROLES: Partial<Record<TensorRole, (param?: string) => string>> = {
  activation: () => 'activation',
  gradActivation: () => 'grad_activation',
  param: (p) => tagPart(p ?? 'param'),
  gradParam: (p) => `grad_${tagPart(p ?? 'param')}`,
  delta: (p) => `delta_${tagPart(p ?? 'param')}`,
};

/** The histograms of one step, grouped by layer: "dense_Dense1/activation", "dense_Dense1/grad_kernel"… */
export function stepHistograms(record: StepRecord, layers: LayerInfo[]): HistogramPoint[] {
  const out: HistogramPoint[] = [];
  const named = (s: TensorSummary) => HISTOGRAM_ROLES[s.role];
  for (const s of record.summaries) {
    const name = named(s);
    const layer = layers[s.layer];
    if (!name || !layer || !s.stats) continue;
    out.push({ tag: `${tagPart(layer.name)}/${name(s.param)}`, stats: s.stats });
  }
  return out;
}

const finiteCount = (stats: TensorStats) => stats.count - stats.nanCount - stats.infCount;

/**
 * A HistogramProto from a summary's 64 equal bins over [min, max]: bucket i ends at
 * min + (i+1)·width (the last at max, where TensorBoard also closes it). A constant tensor is one
 * bucket. Undefined when the tensor has no finite value (there is nothing to draw).
 */
export function histogramProto(stats: TensorStats): ProtoWriter | undefined {
  const finite = finiteCount(stats);
  if (finite <= 0) return undefined;
  const bins = stats.histogram;
  let limits: number[];
  let counts: number[];
  if (!(stats.max > stats.min)) {
    limits = [stats.max];
    counts = [finite];
  } else {
    const width = (stats.max - stats.min) / bins.length;
    limits = Array.from(bins, (_, i) => (i === bins.length - 1 ? stats.max : stats.min + (i + 1) * width));
    counts = Array.from(bins);
  }
  return new ProtoWriter()
    .double(HISTOGRAM.min, stats.min)
    .double(HISTOGRAM.max, stats.max)
    .double(HISTOGRAM.num, finite)
    .double(HISTOGRAM.sum, stats.mean * finite)
    .double(HISTOGRAM.sumSquares, stats.l2 * stats.l2)
    .packedDoubles(HISTOGRAM.bucketLimit, limits)
    .packedDoubles(HISTOGRAM.bucket, counts);
}

export function summaryEvent(wallTime: number, step: number, scalars: ScalarPoint[], histograms: HistogramPoint[]): Buffer {
  const summary = new ProtoWriter();
  for (const s of scalars) summary.message(SUMMARY.value, new ProtoWriter().string(VALUE.tag, s.tag).float(VALUE.simpleValue, s.value));
  for (const h of histograms) {
    const histo = histogramProto(h.stats);
    if (histo) summary.message(SUMMARY.value, new ProtoWriter().string(VALUE.tag, h.tag).message(VALUE.histo, histo));
  }
  return new ProtoWriter().double(EVENT.wallTime, wallTime).uint(EVENT.step, step).message(EVENT.summary, summary).finish();
}

export function fileVersionEvent(wallTime: number): Buffer {
  return new ProtoWriter().double(EVENT.wallTime, wallTime).string(EVENT.fileVersion, FILE_VERSION).finish();
}

export interface TensorBoardExport {
  file: string;
  steps: number;
  scalars: number;
  histograms: number;
}

/**
 * Writes `events.out.tfevents.<run start, s>.<host>` into `dir`. Named after the run's start, so
 * exporting a run again replaces its file instead of adding a second copy TensorBoard would
 * also read. Wall times: the run's start plus the steps' own durations.
 */
export function writeTensorBoard(run: Pick<TraceReader, 'meta' | 'stepCount' | 'entry' | 'readStep'>, dir: string): TensorBoardExport {
  fs.mkdirSync(dir, { recursive: true });
  const start = Date.parse(run.meta.createdAt) / 1000;
  const file = path.join(dir, `events.out.tfevents.${Math.floor(start)}.${os.hostname()}`);
  const layers = run.meta.model.layers;
  const fd = fs.openSync(file, 'w');
  const result: TensorBoardExport = { file, steps: 0, scalars: 0, histograms: 0 };
  try {
    fs.writeSync(fd, tfRecord(fileVersionEvent(start)));
    let elapsed = 0;
    for (let i = 0; i < run.stepCount; i++) {
      const record = run.readStep(run.entry(i).step);
      elapsed += record.stepMs / 1000;
      const scalars = stepScalars(record, layers);
      const histograms = stepHistograms(record, layers);
      fs.writeSync(fd, tfRecord(summaryEvent(start + elapsed, record.step, scalars, histograms)));
      result.steps++;
      result.scalars += scalars.length;
      result.histograms += histograms.filter((h) => finiteCount(h.stats) > 0).length;
    }
  } finally {
    fs.closeSync(fd);
  }
  return result;
}
