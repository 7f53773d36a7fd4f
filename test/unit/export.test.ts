// Exporting a run: the TensorBoard event file read back with a decoder written here from the
// published field numbers (tensorflow/core/util/event.proto, core/framework/summary.proto) and a
// bitwise CRC-32C (not the table one the exporter ships); the CSV and JSON tables against the
// trace they came from; non-finite values; bad input.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { summarize } from '../../src/runner/capture/summarize';
import { csvCell } from '../../src/trace/export/csvExport';
import { TraceReader } from '../../src/trace/traceReader';
import { TraceWriter } from '../../src/trace/traceWriter';
import type { RunMeta, StepRecord, TensorStats } from '../../src/shared/traceTypes';

const root = path.resolve(__dirname, '../../..');
const cli = path.join(root, 'dist/cli.js');
const tinyModel = path.join(root, 'test/unit/fixtures/tinyModel.ts');

function cliRun(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const tempDir = (tag: string) => fs.mkdtempSync(path.join(os.tmpdir(), `gl-export-${tag}-`));

// ---- An independent reader of TFRecord + Event protos ------------------------------------

/** CRC-32C bit by bit, from the polynomial's definition. */
function crc32cBitwise(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function masked(bytes: Uint8Array): number {
  const c = crc32cBitwise(bytes);
  return (((c >>> 15) | (c << 17)) + 0xa282ead8) >>> 0;
}

function tfRecords(file: string): Buffer[] {
  const buf = fs.readFileSync(file);
  const out: Buffer[] = [];
  let at = 0;
  while (at < buf.length) {
    const length = Number(buf.readBigUInt64LE(at));
    assert.equal(buf.readUInt32LE(at + 8), masked(buf.subarray(at, at + 8)), `length CRC of the record at byte ${at}`);
    const data = buf.subarray(at + 12, at + 12 + length);
    assert.equal(buf.readUInt32LE(at + 12 + length), masked(data), `data CRC of the record at byte ${at}`);
    out.push(data);
    at += 12 + length + 4;
  }
  assert.equal(at, buf.length, 'the file ends on a record boundary');
  return out;
}

type Field = { wire: 0; value: bigint } | { wire: 1; bytes: Buffer } | { wire: 2; bytes: Buffer } | { wire: 5; bytes: Buffer };

function decodeMessage(buf: Buffer): Map<number, Field[]> {
  const fields = new Map<number, Field[]>();
  let at = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = buf[at++];
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (at < buf.length) {
    const key = Number(varint());
    const field = key >>> 3;
    const wire = key & 7;
    let f: Field;
    if (wire === 0) f = { wire, value: varint() };
    else if (wire === 1) f = { wire, bytes: buf.subarray(at, (at += 8)) };
    else if (wire === 5) f = { wire, bytes: buf.subarray(at, (at += 4)) };
    else if (wire === 2) {
      const n = Number(varint());
      f = { wire, bytes: buf.subarray(at, (at += n)) };
    } else throw new Error(`unexpected wire type ${wire} at byte ${at}`);
    fields.set(field, [...(fields.get(field) ?? []), f]);
  }
  return fields;
}

function one(fields: Map<number, Field[]>, n: number): Field | undefined {
  const all = fields.get(n);
  assert.ok(!all || all.length === 1, `field ${n} appears once`);
  return all?.[0];
}
const asDouble = (f: Field | undefined) => (f && f.wire === 1 ? f.bytes.readDoubleLE(0) : undefined);
const asFloat = (f: Field | undefined) => (f && f.wire === 5 ? f.bytes.readFloatLE(0) : undefined);
const asString = (f: Field | undefined) => (f && f.wire === 2 ? f.bytes.toString('utf8') : undefined);
const asVarint = (f: Field | undefined) => (f && f.wire === 0 ? Number(f.value) : undefined);
function asPackedDoubles(f: Field | undefined): number[] {
  assert.ok(f && f.wire === 2, 'a packed repeated double');
  return Array.from({ length: f.bytes.length / 8 }, (_, i) => f.bytes.readDoubleLE(i * 8));
}

interface DecodedHistogram {
  min: number;
  max: number;
  num: number;
  sum: number;
  sumSquares: number;
  bucketLimit: number[];
  bucket: number[];
}

interface DecodedEvent {
  wallTime: number;
  step?: number;
  fileVersion?: string;
  scalars: Map<string, number>;
  histograms: Map<string, DecodedHistogram>;
}

function decodeEvent(data: Buffer): DecodedEvent {
  // Event: wall_time = 1 (double), step = 2 (int64), file_version = 3 (string), summary = 5.
  const e = decodeMessage(data);
  const event: DecodedEvent = { wallTime: asDouble(one(e, 1))!, step: asVarint(one(e, 2)), fileVersion: asString(one(e, 3)), scalars: new Map(), histograms: new Map() };
  const summary = one(e, 5);
  if (!summary || summary.wire !== 2) return event;
  // Summary: repeated Value value = 1; Value: tag = 1, simple_value = 2 (float), histo = 5.
  for (const v of decodeMessage(summary.bytes).get(1) ?? []) {
    assert.equal(v.wire, 2);
    const value = decodeMessage((v as { bytes: Buffer }).bytes);
    const tag = asString(one(value, 1))!;
    const simple = asFloat(one(value, 2));
    if (simple !== undefined) event.scalars.set(tag, simple);
    const histo = one(value, 5);
    if (histo && histo.wire === 2) {
      // HistogramProto: min 1, max 2, num 3, sum 4, sum_squares 5, bucket_limit 6, bucket 7.
      const h = decodeMessage(histo.bytes);
      event.histograms.set(tag, {
        min: asDouble(one(h, 1))!,
        max: asDouble(one(h, 2))!,
        num: asDouble(one(h, 3))!,
        sum: asDouble(one(h, 4))!,
        sumSquares: asDouble(one(h, 5))!,
        bucketLimit: asPackedDoubles(one(h, 6)),
        bucket: asPackedDoubles(one(h, 7)),
      });
    }
  }
  return event;
}

function readEvents(dir: string): { file: string; events: DecodedEvent[] } {
  const files = fs.readdirSync(dir).filter((f) => f.startsWith('events.out.tfevents.'));
  assert.equal(files.length, 1, `one event file in ${dir}: ${files.join(', ')}`);
  const file = path.join(dir, files[0]);
  return { file, events: tfRecords(file).map(decodeEvent) };
}

function assertHistogramOf(h: DecodedHistogram | undefined, stats: TensorStats, tag: string): void {
  assert.ok(h, `histogram ${tag}`);
  assert.equal(h.min, stats.min, `${tag} min`);
  assert.equal(h.max, stats.max, `${tag} max`);
  assert.equal(h.num, stats.count, `${tag} num`);
  assert.ok(Math.abs(h.sum - stats.mean * stats.count) <= 1e-9 * Math.max(1, Math.abs(h.sum)), `${tag} sum`);
  assert.ok(Math.abs(h.sumSquares - stats.l2 ** 2) <= 1e-9 * Math.max(1, h.sumSquares), `${tag} sum_squares`);
  assert.equal(h.bucket.reduce((a, b) => a + b, 0), stats.count, `${tag}: the buckets add up to the count`);
  if (stats.max > stats.min) {
    assert.deepEqual(h.bucket, Array.from(stats.histogram), `${tag} buckets`);
    assert.equal(h.bucketLimit.length, 64);
    assert.equal(h.bucketLimit[63], stats.max, `${tag}: the last bucket closes at max`);
    assert.ok(h.bucketLimit.every((l, i) => i === 0 || l > h.bucketLimit[i - 1]), `${tag}: bucket limits increase`);
    assert.ok(Math.abs(h.bucketLimit[0] - (stats.min + (stats.max - stats.min) / 64)) < 1e-12 * Math.max(1, Math.abs(stats.max)), `${tag}: equal-width buckets`);
  } else {
    assert.deepEqual([h.bucketLimit, h.bucket], [[stats.max], [stats.count]], `${tag}: a constant tensor is one bucket`);
  }
}

describe('export', () => {
  let run: string;
  before(() => {
    run = tempDir('run');
    const t = cliRun('trace', tinyModel, '--steps', '3', '--out', run, '--backend', 'cpu', '--quiet', '--no-typecheck');
    assert.equal(t.code, 0, t.err);
  });

  it('the independent CRC-32C is the standard one (check value of "123456789")', () => {
    assert.equal(crc32cBitwise(Buffer.from('123456789')), 0xe3069283);
  });

  it('--tensorboard: a TFRecord event file whose events decode to every step\'s scalars and histograms', () => {
    const out = tempDir('tb');
    const r = cliRun('export', run, '--tensorboard', out);
    assert.equal(r.code, 0, r.err);
    const { file, events } = readEvents(out);
    assert.match(r.out, new RegExp(`wrote ${file.replace(/[/.]/g, '\\$&')}: 3 steps, \\d+ scalars, 48 histograms`));
    const reader = TraceReader.open(run);
    const start = Date.parse(reader.meta.createdAt) / 1000;
    assert.match(path.basename(file), new RegExp(`^events\\.out\\.tfevents\\.${Math.floor(start)}\\.${os.hostname()}$`));
    assert.equal(events.length, 1 + reader.stepCount, 'the file_version event, then one a step');
    assert.equal(events[0].fileVersion, 'brain.Event:2');
    assert.equal(events[0].wallTime, start);
    let previousWall = start;
    for (let i = 0; i < reader.stepCount; i++) {
      const record = reader.readStep(i);
      const e = events[i + 1];
      assert.equal(e.step, i);
      assert.ok(e.wallTime > previousWall, 'wall time moves on with each step');
      previousWall = e.wallTime;
      assert.equal(e.scalars.get('train/loss'), Math.fround(record.loss));
      assert.equal(e.scalars.get('train/accuracy'), Math.fround(record.accuracy!));
      if (record.testAccuracy !== undefined) assert.equal(e.scalars.get('test/accuracy'), Math.fround(record.testAccuracy));
      const stats = (layer: number, role: string, param?: string) => record.summaries.find((s) => s.layer === layer && s.role === role && s.param === param)!.stats!;
      for (const [index, name] of reader.meta.model.layers.map((l) => [l.index, l.name] as const)) {
        assert.equal(e.scalars.get(`grad_norm/${name}`), Math.fround(stats(index, 'gradParam', 'kernel').l2));
        assert.equal(e.scalars.get(`update_ratio/${name}`), Math.fround(stats(index, 'delta', 'kernel').l2 / stats(index, 'param', 'kernel').l2));
        assertHistogramOf(e.histograms.get(`${name}/activation`), stats(index, 'activation'), `${name}/activation`);
        assertHistogramOf(e.histograms.get(`${name}/grad_activation`), stats(index, 'gradActivation'), `${name}/grad_activation`);
        for (const param of ['kernel', 'bias']) {
          assertHistogramOf(e.histograms.get(`${name}/${param}`), stats(index, 'param', param), `${name}/${param}`);
          assertHistogramOf(e.histograms.get(`${name}/grad_${param}`), stats(index, 'gradParam', param), `${name}/grad_${param}`);
          assertHistogramOf(e.histograms.get(`${name}/delta_${param}`), stats(index, 'delta', param), `${name}/delta_${param}`);
        }
      }
      assert.equal(e.histograms.size, 2 * 8, 'eight histograms for each of the two layers');
    }
    reader.close();
    // Exporting again replaces the file rather than adding a second one TensorBoard would read.
    assert.equal(cliRun('export', run, '--tensorboard', out).code, 0);
    assert.equal(readEvents(out).events.length, 4);
  });

  it('--csv: steps.csv and layers.csv hold every step and every captured tensor, exactly', () => {
    const out = tempDir('csv');
    const r = cliRun('export', run, '--csv', out);
    assert.equal(r.code, 0, r.err);
    const parse = (f: string) => fs.readFileSync(path.join(out, f), 'utf8').trimEnd().split('\n').map((l) => l.split(','));
    const [stepHeader, ...steps] = parse('steps.csv');
    const [layerHeader, ...layers] = parse('layers.csv');
    assert.deepEqual(stepHeader, ['step', 'loss', 'accuracy', 'testAccuracy', 'stepMs', 'testLoss']);
    assert.deepEqual(layerHeader.slice(0, 13), ['step', 'layer', 'name', 'role', 'param', 'mean', 'std', 'min', 'max', 'l2', 'zeroFraction', 'nanCount', 'infCount']);
    const reader = TraceReader.open(run);
    assert.equal(steps.length, reader.stepCount);
    let row = 0;
    for (let i = 0; i < reader.stepCount; i++) {
      const record = reader.readStep(i);
      assert.deepEqual(steps[i].slice(0, 5).map(Number), [i, record.loss, record.accuracy, record.testAccuracy ?? NaN, record.stepMs]);
      for (const s of record.summaries) {
        const cells = layers[row++];
        const col = (c: string) => cells[layerHeader.indexOf(c)];
        assert.deepEqual([col('step'), col('layer'), col('name'), col('role'), col('param')], [String(i), String(s.layer), reader.meta.model.layers[s.layer].name, s.role, s.param ?? '']);
        for (const k of ['mean', 'std', 'min', 'max', 'l2', 'zeroFraction', 'nanCount', 'infCount'] as const) assert.equal(Number(col(k)), s.stats![k], `${s.role} ${k}`);
      }
    }
    assert.equal(layers.length, row, 'one row per captured tensor per step, no more');
    reader.close();
  });

  it('--json: the run and its steps, each tensor with its statistics and histogram', () => {
    const file = path.join(tempDir('json'), 'run.json');
    const r = cliRun('export', run, '--json', file);
    assert.equal(r.code, 0, r.err);
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as {
      run: { file: string; backend: string; model: { layers: { name: string }[] } };
      steps: { step: number; loss: number; tensors: { layer: number; role: string; param?: string; mean: number; l2: number; histogram: number[] }[] }[];
    };
    const reader = TraceReader.open(run);
    assert.equal(parsed.run.file, tinyModel);
    assert.equal(parsed.run.backend, 'cpu');
    assert.deepEqual(parsed.run.model.layers.map((l) => l.name), ['dense_Dense1', 'dense_Dense2']);
    assert.equal(parsed.steps.length, reader.stepCount);
    const record = reader.readStep(2);
    assert.equal(parsed.steps[2].loss, record.loss);
    assert.equal(parsed.steps[2].tensors.length, record.summaries.length);
    record.summaries.forEach((s, k) => {
      const t = parsed.steps[2].tensors[k];
      assert.deepEqual([t.layer, t.role, t.param, t.mean, t.l2], [s.layer, s.role, s.param, s.stats!.mean, s.stats!.l2]);
      assert.deepEqual(t.histogram, Array.from(s.stats!.histogram));
    });
    reader.close();
  });

  it('non-finite values: "NaN" in CSV, null in JSON, no histogram of a tensor without a finite value', () => {
    const dir = tempDir('nan');
    const meta: RunMeta = {
      formatVersion: 1,
      runId: 'nan',
      file: '/x/model.ts',
      createdAt: new Date(1_000_000).toISOString(),
      backend: { name: 'cpu', reason: 'test' },
      model: { name: 'm', kind: 'layers', inputShape: [null, 2], layers: [{ index: 0, name: 'out "a,b"', type: 'Dense', inputShape: [null, 2], outputShape: [null, 2], params: [], paramCount: 0, paramFormula: '', nativeBackward: true }], totalParams: 0, trainableParams: 0 },
      config: { batchSize: 1, steps: 1, seed: 1, loss: 'meanSquaredError', optimizer: 'SGD', evalEvery: 0, capture: { summaries: true, sampleIndices: [], keyframeEvery: 0, stepBudgetBytes: 0, keyframeBudgetBytes: 0 } },
      tfjsVersion: 'test',
    };
    const record: StepRecord = {
      step: 0,
      loss: NaN,
      stepMs: 1,
      keyframe: false,
      summaries: [
        { layer: 0, role: 'activation', shape: [1, 2], stats: summarize(new Float32Array([NaN, Infinity]), [1, 2]) },
        { layer: 0, role: 'gradActivation', shape: [1, 2], stats: summarize(new Float32Array([3, 3]), [1, 2]) },
      ],
      tensors: [],
    };
    const w = new TraceWriter(dir, meta);
    w.append(record);
    w.close({ state: 'failed' });
    const csv = tempDir('nan-csv');
    assert.equal(cliRun('export', dir, '--csv', csv).code, 0);
    assert.equal(fs.readFileSync(path.join(csv, 'steps.csv'), 'utf8').split('\n')[1], '0,NaN,,,1,');
    const layerLines = fs.readFileSync(path.join(csv, 'layers.csv'), 'utf8').split('\n');
    assert.ok(layerLines[1].startsWith('0,0,"out ""a,b""",activation,,'), layerLines[1]);
    assert.equal(csvCell('plain'), 'plain');
    const json = path.join(tempDir('nan-json'), 'run.json');
    assert.equal(cliRun('export', dir, '--json', json).code, 0);
    const parsed = JSON.parse(fs.readFileSync(json, 'utf8')) as { steps: { loss: null; tensors: { nanCount: number; infCount: number }[] }[] };
    assert.equal(parsed.steps[0].loss, null);
    assert.deepEqual([parsed.steps[0].tensors[0].nanCount, parsed.steps[0].tensors[0].infCount], [1, 1]);
    const tb = tempDir('nan-tb');
    assert.equal(cliRun('export', dir, '--tensorboard', tb).code, 0);
    const { events } = readEvents(tb);
    assert.ok(Number.isNaN(events[1].scalars.get('train/loss')));
    assert.deepEqual([...events[1].histograms.keys()], ['out_a_b_/grad_activation'], 'the all-NaN/Inf activation has no histogram; tags keep to safe characters');
    assertHistogramOf(events[1].histograms.get('out_a_b_/grad_activation'), record.summaries[1].stats!, 'constant');
  });

  it('bad input: a located message and exit 2', () => {
    const noFormat = cliRun('export', run);
    assert.equal(noFormat.code, 2);
    assert.match(noFormat.err, /say where to: --tensorboard DIR, --csv DIR or --json FILE/);
    const two = cliRun('export', run, '--csv', tempDir('x'), '--json', path.join(tempDir('y'), 'a.json'));
    assert.equal(two.code, 2);
    assert.match(two.err, /one format at a time, got --csv and --json/);
    const jsonFolder = cliRun('export', run, '--json', os.tmpdir());
    assert.equal(jsonFolder.code, 2);
    assert.match(jsonFolder.err, /is a folder; give a file name/);
    const notATrace = cliRun('export', os.tmpdir(), '--csv', tempDir('z'));
    assert.equal(notATrace.code, 2);
    assert.match(notATrace.err, /is not a Gradient Lens trace/);
  });
});
