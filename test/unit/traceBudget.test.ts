import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { summarize } from '../../src/runner/capture/summarize';
import type { RunMeta, StepRecord } from '../../src/shared/traceTypes';
import { KEYFRAME_DIR, keyframeFileName } from '../../src/trace/keyframeCodec';
import { CorruptRecordError } from '../../src/trace/recordCodec';
import { TraceReader } from '../../src/trace/traceReader';
import { TraceWriteError, TraceWriter, type TraceFs } from '../../src/trace/traceWriter';
import { testRunMeta } from './helpers/runMeta';

const tempDir = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'gl-budget-'));

function metaOf(steps: number, keyframeEvery: number, traceBudgetBytes?: number): RunMeta {
  return testRunMeta({ runId: 'budget', units: 16, batchSize: 8, steps, capture: { keyframeEvery, traceBudgetBytes } });
}

/** Noise that deflate cannot shrink much, so the sizes in these tests are not flattered by compression. */
function noise(n: number, seed: number): Float32Array {
  let x = seed * 2654435761 + 1;
  return Float32Array.from({ length: n }, () => {
    x = (x * 1103515245 + 12345) >>> 0;
    return (x / 2 ** 32 - 0.5) * 0.2;
  });
}

/** A step as the record builder makes it: summaries, and at keyframes the whole batch and the weights (4 kB of kernel). */
function step(s: number, keyframe: boolean): StepRecord {
  const act = noise(8 * 16, s);
  const kernel = noise(16 * 64, s + 1e6);
  return {
    step: s,
    loss: 1 / (s + 1),
    stepMs: 1,
    keyframe,
    summaries: [
      { layer: 0, role: 'activation', shape: [8, 16], stats: summarize(act, [8, 16]) },
      { layer: 0, role: 'param', param: 'kernel', shape: [16, 64], stats: summarize(kernel) },
    ],
    tensors: keyframe
      ? [
          { layer: 0, role: 'activation', scope: 'batch', shape: [8, 16], values: act },
          { layer: 0, role: 'param', param: 'kernel', scope: 'full', shape: [16, 64], values: kernel },
        ]
      : [{ layer: 0, role: 'activation', scope: 'sample', sampleIndices: [0], shape: [1, 16], values: act.slice(0, 16) }],
  };
}

function folderBytes(dir: string): number {
  let n = 0;
  for (const name of fs.readdirSync(dir)) {
    const p = path.join(dir, name);
    n += fs.statSync(p).isDirectory() ? folderBytes(p) : fs.statSync(p).size;
  }
  return n;
}

describe('the trace byte budget', () => {
  it('is never exceeded however many steps, and the kept keyframes stay spread over the whole run', () => {
    const dir = tempDir();
    const steps = 4000;
    // Summaries take ~2 MB of it (500 bytes a step): room for about a hundred 5 kB keyframes of the 400.
    const budget = 2_600_000;
    const w = new TraceWriter(dir, metaOf(steps, 10, budget));
    let largest = 0;
    let keptAtQuarter: number[] = [];
    for (let s = 0; s < steps; s++) {
      w.append(step(s, s % 10 === 0 || s === steps - 1));
      // Checked on disk after every step, not only at the end: a budget is a bound at every moment.
      if (s % 50 === 0 || s === steps - 1) largest = Math.max(largest, folderBytes(dir));
      if (s === steps / 4) keptAtQuarter = w.keyframeSteps;
    }
    w.close({ state: 'finished' });
    const total = folderBytes(dir);
    assert.ok(total <= budget, `${total} bytes on disk, budget ${budget}`);
    assert.ok(largest <= budget, `${largest} bytes on disk mid-run, budget ${budget}`);

    const kept = w.keyframeSteps;
    assert.ok(kept.length >= 4, `only ${kept.length} keyframes kept`);
    assert.ok(kept.length < 401, 'the keyframes thinned out');
    assert.equal(kept[0], 0);
    assert.equal(kept[kept.length - 1], steps - 1, 'the last step keeps its keyframe');
    // Evenly spread: one stride between all of them (a power of two times the policy's 10), the last step aside.
    const gaps = kept.slice(1, -1).map((k, i) => k - kept[i]);
    const stride = gaps[0];
    assert.ok(gaps.every((g) => g === stride), `gaps ${gaps.join(',')}`);
    assert.ok(Number.isInteger(Math.log2(stride / 10)), `stride ${stride}`);
    assert.ok(kept[kept.length - 2] >= steps - 1 - stride, 'the kept keyframes reach the end of the run');
    assert.ok(keptAtQuarter.length > 0 && keptAtQuarter[keptAtQuarter.length - 1] > steps / 8, 'a quarter in, keyframes covered that quarter');
    assert.deepEqual(fs.readdirSync(path.join(dir, KEYFRAME_DIR)).sort(), kept.map(keyframeFileName));

    const reader = TraceReader.open(dir);
    assert.equal(reader.stepCount, steps, 'every step keeps its record');
    assert.deepEqual(reader.fullTensorSteps, kept);
    const whole = reader.readStep(kept[1]);
    assert.equal(whole.keyframeDropped, undefined);
    assert.deepEqual(
      whole.tensors.map((t) => `${t.role}:${t.scope}`),
      ['activation:batch', 'param:full'],
      'a kept keyframe reads back whole, its batch replacing the selected rows',
    );
    assert.deepEqual(Array.from(whole.tensors[1].values), Array.from(step(kept[1], true).tensors[1].values));
    const thinned = reader.readStep(kept[1] + 10);
    assert.equal(thinned.keyframe, true);
    assert.equal(thinned.keyframeDropped, true);
    assert.deepEqual(
      thinned.tensors.map((t) => `${t.role}:${t.scope}`),
      ['activation:sample'],
      'a thinned keyframe still has its selected sample, taken from its batch',
    );
    assert.deepEqual(Array.from(thinned.tensors[0].values), Array.from(step(kept[1] + 10, true).tensors[0].values.subarray(0, 16)));
    reader.close();
  });

  it('a run too long for its budget keeps summaries only on ordinary steps, then stops with a located error when even those do not fit', () => {
    const dir = tempDir();
    const budget = 60_000;
    const w = new TraceWriter(dir, metaOf(10_000, 10, budget));
    let error: unknown;
    let s = 0;
    for (; s < 10_000; s++) {
      try {
        w.append(step(s, s % 10 === 0));
      } catch (e) {
        error = e;
        break;
      }
    }
    assert.ok(error instanceof TraceWriteError, String(error));
    assert.equal(error.code, 'EBUDGET');
    assert.match(error.message, new RegExp(`^could not write ${dir}/steps\\.bin: the trace reached its byte budget of 60000 bytes at step ${s}: .*traceBudgetMB.*--trace-budget`));
    assert.ok(folderBytes(dir) <= budget, `${folderBytes(dir)} bytes on disk, budget ${budget}`);
    assert.throws(() => w.append(step(s + 1, false)), /byte budget/, 'the writer takes no more steps');
    w.close({ state: 'failed' });
    assert.ok(folderBytes(dir) <= budget);

    const reader = TraceReader.open(dir);
    assert.equal(reader.stepCount, s);
    const ordinary = reader.readStep(1);
    assert.equal(ordinary.samplesDropped, true);
    assert.deepEqual(ordinary.tensors, []);
    assert.equal(ordinary.summaries.length, 2, 'the summaries are all there');
    reader.close();
  });

  it("a keyframe's file is in place before its step's record: a live reader never finds the step without its keyframe", () => {
    const dir = tempDir();
    const events: string[] = [];
    const fds = new Map<number, string>();
    const files: TraceFs = {
      ...fs,
      openSync: ((p: fs.PathLike, flags: fs.OpenMode) => {
        const fd = fs.openSync(p, flags);
        fds.set(fd, path.basename(String(p)));
        return fd;
      }) as typeof fs.openSync,
      writeSync: ((fd: number, buf: Uint8Array, offset?: number, length?: number) => {
        events.push(`write ${fds.get(fd)}`);
        return fs.writeSync(fd, buf, offset ?? 0, length ?? buf.length - (offset ?? 0));
      }) as typeof fs.writeSync,
      renameSync: ((from: fs.PathLike, to: fs.PathLike) => {
        events.push(`rename ${path.basename(String(to))}`);
        fs.renameSync(from, to);
      }) as typeof fs.renameSync,
    };
    const w = new TraceWriter(dir, metaOf(20, 10), files);
    w.append(step(0, true));
    events.splice(0, events.indexOf('write step-0000000000.glk.tmp'));
    w.append(step(1, false));
    w.append(step(10, true));
    assert.deepEqual(events, [
      'write step-0000000000.glk.tmp', 'rename step-0000000000.glk', 'write steps.bin', 'write index.bin',
      'write steps.bin', 'write index.bin',
      'write step-0000000010.glk.tmp', 'rename step-0000000010.glk', 'write steps.bin', 'write index.bin',
    ]);
    w.close({ state: 'stopped' });
  });

  it('the first keyframe is stored uncompressed (the first step reaches the user sooner), later ones deflated; both read back exactly', () => {
    const dir = tempDir();
    const w = new TraceWriter(dir, metaOf(20, 10));
    const first = step(0, true);
    const later = step(10, true);
    w.append(first);
    w.append(later);
    w.close({ state: 'finished' });
    const size = (s: number) => fs.statSync(path.join(dir, KEYFRAME_DIR, keyframeFileName(s))).size;
    const rawBytes = first.tensors.reduce((n, t) => n + t.values.byteLength, 0);
    assert.ok(size(0) > rawBytes, `step 0's keyframe ${size(0)} bytes holds its ${rawBytes} bytes as they are`);
    assert.ok(size(10) < rawBytes, `step 10's keyframe ${size(10)} bytes is deflated`);
    const r = TraceReader.open(dir);
    for (const [s, record] of [[0, first], [10, later]] as const) {
      const back = r.readStep(s).tensors.filter((t) => t.scope !== 'sample');
      assert.deepEqual(back.map((t) => Array.from(t.values)), record.tensors.map((t) => Array.from(t.values)), `step ${s}`);
    }
    r.close();
  });

  it('without a budget (traces and tests from before it) every keyframe is kept', () => {
    const dir = tempDir();
    const w = new TraceWriter(dir, metaOf(200, 10));
    for (let s = 0; s < 200; s++) w.append(step(s, s % 10 === 0 || s === 199));
    w.close({ state: 'finished' });
    const reader = TraceReader.open(dir);
    assert.deepEqual(reader.fullTensorSteps, [...Array.from({ length: 20 }, (_, i) => i * 10), 199]);
    assert.equal(reader.readStep(1).samplesDropped, undefined);
    reader.close();
  });

  it('a truncated or corrupt keyframe file is a located error (file and byte), and costs only its own step', () => {
    const dir = tempDir();
    const w = new TraceWriter(dir, metaOf(30, 10));
    for (let s = 0; s < 30; s++) w.append(step(s, s % 10 === 0 || s === 29));
    w.close({ state: 'finished' });
    const truncated = path.join(dir, KEYFRAME_DIR, keyframeFileName(10));
    const bytes = fs.readFileSync(truncated);
    fs.writeFileSync(truncated, bytes.subarray(0, bytes.length - 100));
    const flipped = path.join(dir, KEYFRAME_DIR, keyframeFileName(20));
    const other = fs.readFileSync(flipped);
    // The last byte belongs to the last tensor (the kernel): its error must say where that tensor starts.
    other[other.length - 1] ^= 0xff;
    fs.writeFileSync(flipped, other);

    const reader = TraceReader.open(dir);
    assert.throws(
      () => reader.readStep(10),
      (e: Error) => e instanceof CorruptRecordError && e.message === `${truncated}: damaged keyframe at byte ${bytes.length - 100} (the file is cut short: 100 of its ${bytes.length} bytes are missing)`,
    );
    let kernelAt = -1;
    assert.throws(
      () => reader.readStep(20),
      (e: Error) => {
        const m = new RegExp(`^${flipped.replace(/[.]/g, '\\.')}: damaged keyframe at byte (\\d+) \\(tensor 1 \\(layer 0 param kernel\\): its checksum does not match\\)$`).exec(e.message);
        if (m) kernelAt = Number(m[1]);
        return e instanceof CorruptRecordError && m !== null;
      },
    );
    // The byte named is where the kernel's stored bytes begin: inside the file, before the flipped byte.
    assert.ok(kernelAt > 16 && kernelAt < other.length - 1, `byte ${kernelAt}`);
    assert.ok(reader.damage.some((d) => d.startsWith(truncated)) && reader.damage.some((d) => d.startsWith(flipped)));
    assert.equal(reader.readStep(0).tensors.length, 2, 'the other keyframes read');
    assert.equal(reader.readStep(11).tensors.length, 1, 'and the steps around them');
    reader.close();
  });

  it('a trace written before keyframe files and the budget still opens: keyframes inline, histograms unshuffled', () => {
    // test/unit/fixtures/oldTrace was written by the trace code of 7a9e9bf (its meta has no
    // traceBudgetBytes or keyframePrecision; its records no histogram planes; no keyframes/).
    const dir = path.join(__dirname, '../../../test/unit/fixtures/oldTrace');
    const reader = TraceReader.open(dir);
    assert.deepEqual(reader.damage, []);
    assert.equal(reader.stepCount, 6);
    assert.equal(reader.meta.config.capture.traceBudgetBytes, undefined);
    assert.deepEqual(reader.fullTensorSteps, [0, 3, 5]);
    const k = reader.readStep(3);
    assert.equal(k.keyframeDropped, undefined);
    assert.deepEqual(k.tensors.map((t) => `${t.role}:${t.scope}`), ['activation:batch', 'param:full']);
    assert.deepEqual(Array.from(k.tensors[1].values), Array.from({ length: 6 }, (_, i) => -3 - i / 8));
    const ordinary = reader.readStep(4);
    assert.deepEqual(Array.from(ordinary.summaries[0].stats!.histogram), Array.from({ length: 64 }, (_, i) => ((i * 7 + 4) % 5 === 0 ? 70000 + i : i)));
    const history = reader.history(0, 'activation', undefined, 10);
    assert.deepEqual(history.histograms[2], Array.from({ length: 64 }, (_, i) => ((i * 7 + 2) % 5 === 0 ? 70000 + i : i)));
    reader.close();
  });
});
