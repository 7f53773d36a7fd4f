import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { summarize } from '../../src/runner/capture/summarize';
import { TraceReader, TraceOpenError, TraceClosedError } from '../../src/trace/traceReader';
import { TraceWriter } from '../../src/trace/traceWriter';
import { DATA_FILE, INDEX_FILE } from '../../src/trace/recordCodec';
import type { RunMeta, StepRecord } from '../../src/shared/traceTypes';

const meta: RunMeta = {
  formatVersion: 1,
  runId: 'test',
  file: '/x/model.ts',
  createdAt: new Date(0).toISOString(),
  backend: { name: 'cpu', reason: 'test' },
  model: { name: 'm', kind: 'layers', inputShape: [null, 3], layers: [], totalParams: 0, trainableParams: 0 },
  config: { batchSize: 2, steps: 10, seed: 1, loss: 'meanSquaredError', optimizer: 'SGD', evalEvery: 0, capture: { summaries: true, sampleIndices: [0], keyframeEvery: 5, stepBudgetBytes: 1e6, keyframeBudgetBytes: 1e7 } },
  tfjsVersion: 'test',
};

function record(step: number, big = false): StepRecord {
  const values = Float32Array.from({ length: big ? 100_000 : 6 }, (_, i) => Math.cos(i + step));
  return {
    step,
    loss: 1 / (step + 1),
    accuracy: step % 2 ? 0.5 : undefined,
    testAccuracy: step === 4 ? 0.75 : undefined,
    stepMs: 1,
    keyframe: big,
    summaries: [{ layer: 0, role: 'activation', shape: [2, 3], stats: summarize(values, [2, values.length / 2]) }],
    tensors: [{ layer: 0, role: 'activation', scope: big ? 'batch' : 'sample', sampleIndices: big ? undefined : [0], shape: [1, values.length], values }],
    samples: [{ index: 0, target: [1], prediction: [0.5] }],
  };
}

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'gl-trace-'));
}

function writeRun(dir: string, steps: number, close = true): void {
  const w = new TraceWriter(dir, meta);
  for (let s = 0; s < steps; s++) w.append(record(s, s % 5 === 0));
  if (close) w.close({ state: 'finished' });
}

describe('trace file', () => {
  it('round-trips records, and reads any step at random', () => {
    const dir = tempDir();
    writeRun(dir, 12);
    const r = TraceReader.open(dir);
    assert.equal(r.stepCount, 12);
    assert.deepEqual(r.damage, []);
    assert.equal(r.end?.state, 'finished');
    for (const step of [7, 0, 11, 5]) {
      const got = r.readStep(step);
      const want = record(step, step % 5 === 0);
      assert.equal(got.step, step);
      assert.equal(got.loss, want.loss);
      assert.deepEqual(Array.from(got.tensors[0].values), Array.from(want.tensors[0].values));
      assert.deepEqual(Array.from(got.summaries[0].stats!.histogram), Array.from(want.summaries[0].stats!.histogram));
      assert.equal(got.summaries[0].stats!.mean, want.summaries[0].stats!.mean);
    }
    assert.equal(r.entry(3).accuracy, 0.5);
    assert.equal(r.entry(4).testAccuracy, 0.75);
    assert.throws(() => r.readStep(12), /step 12 is not in this trace/);
    r.close();
  });

  it('a closed reader refuses to read, even when its descriptor number now belongs to another trace', () => {
    const first = tempDir();
    const second = tempDir();
    writeRun(first, 3);
    const w = new TraceWriter(second, meta);
    for (let s = 0; s < 3; s++) w.append({ ...record(s), loss: 100 + s });
    w.close({ state: 'finished' });
    const a = TraceReader.open(first);
    a.close();
    // The lowest free descriptor is the one `a` held, so `b` most likely gets it: before the
    // guard, `a.readStep(1)` returned b's step 1.
    const b = TraceReader.open(second);
    assert.throws(() => a.readStep(1), TraceClosedError);
    assert.throws(() => a.refresh(), TraceClosedError);
    assert.throws(() => a.history(0, 'activation', undefined, 10), TraceClosedError);
    assert.deepEqual(a.damage, [], 'a closed trace is not a damaged one');
    assert.equal(b.readStep(1).loss, 101);
    a.close(); // twice is harmless
    b.close();
  });

  it('a runner killed mid-record: opens every whole step before it and says what was lost', () => {
    const dir = tempDir();
    writeRun(dir, 8, false);
    // Tear the last record in half, as a kill during writeSync would.
    const data = path.join(dir, DATA_FILE);
    const size = fs.statSync(data).size;
    fs.truncateSync(data, size - 20);
    const r = TraceReader.open(dir);
    assert.equal(r.stepCount, 7);
    assert.equal(r.readStep(6).step, 6);
    assert.equal(r.end, undefined, 'no end.json: the run was cut short');
    assert.match(r.damage.join('\n'), /torn record/);
  });

  it('recovers records the index never got, and runs without an index at all', () => {
    const dir = tempDir();
    writeRun(dir, 6);
    const index = path.join(dir, INDEX_FILE);
    fs.truncateSync(index, fs.statSync(index).size - 32 * 2 - 5);
    let r = TraceReader.open(dir);
    assert.equal(r.stepCount, 6, 'the last two steps are found by scanning the data file');
    assert.equal(r.readStep(5).loss, 1 / 6);
    fs.rmSync(index);
    r = TraceReader.open(dir);
    assert.equal(r.stepCount, 6);
    assert.match(r.damage.join('\n'), /index.bin is missing/);
  });

  it('stops before a corrupt record and says where', () => {
    const dir = tempDir();
    writeRun(dir, 4);
    fs.rmSync(path.join(dir, INDEX_FILE));
    const data = path.join(dir, DATA_FILE);
    const bytes = fs.readFileSync(data);
    bytes[bytes.length - 3] ^= 0xff; // flip bits in the last record's payload
    fs.writeFileSync(data, bytes);
    const r = TraceReader.open(dir);
    assert.equal(r.stepCount, 3);
    assert.match(r.damage.join('\n'), /corrupt \(record checksum does not match\)/);
  });

  it('a live reader picks up steps as they are appended', () => {
    const dir = tempDir();
    const w = new TraceWriter(dir, meta);
    w.append(record(0));
    const r = TraceReader.open(dir, { live: true });
    assert.equal(r.stepCount, 1);
    w.append(record(1));
    w.append(record(2));
    assert.equal(r.refresh(), 2);
    assert.equal(r.readStep(2).step, 2);
    w.close({ state: 'stopped' });
  });

  it('refuses a folder that is not a trace, with the reason', () => {
    const dir = tempDir();
    assert.throws(() => TraceReader.open(dir), (e: Error) => e instanceof TraceOpenError && /has no meta.json/.test(e.message));
    fs.writeFileSync(path.join(dir, 'meta.json'), '{ not json');
    assert.throws(() => TraceReader.open(dir), /meta.json is not valid JSON/);
  });

  it('downsamples the curve and builds histogram histories', () => {
    const dir = tempDir();
    writeRun(dir, 12);
    const r = TraceReader.open(dir);
    const curve = r.curve(5);
    assert.ok(curve.length <= 6);
    assert.equal(curve[curve.length - 1].step, 11, 'the last step is always in the curve');
    const h = r.history(0, 'activation', undefined, 4);
    assert.ok(h.steps.length >= 3 && h.steps.length <= 4);
    assert.equal(h.histograms[0].length, 64);
    // Histories read only summaries: from raw keyframes (step 0, 5, 10) and deflated steps alike.
    const all = r.history(0, 'activation', undefined, 100);
    assert.deepEqual(all.steps, [...Array(12).keys()]);
    for (const step of [0, 3, 5]) {
      const full = r.readStep(step).summaries[0].stats!;
      assert.deepEqual(all.histograms[step], Array.from(full.histogram));
      assert.deepEqual(all.ranges[step], [full.min, full.max]);
    }
  });
});
