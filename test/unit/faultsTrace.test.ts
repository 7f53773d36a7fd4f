// Faults in writing and reading a trace. Writing, through the writer's file-system seam: each failure the OS can give
// (no space, no permission, an I/O error, a write that comes up short) stops the writer with the
// OS error and the file, no step is counted before its record is written, and no temp file is left.
// Reading: a damaged record costs only itself, and a bad meta.json says which field.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CorruptRecordError, DATA_FILE, INDEX_ENTRY_BYTES, INDEX_FILE, INDEX_HEADER } from '../../src/trace/recordCodec';
import { TraceOpenError, TraceReader } from '../../src/trace/traceReader';
import { TraceWriteError, TraceWriter, type TraceFs } from '../../src/trace/traceWriter';
import { assertNoStack, assertNoSurvivors, runCli } from './faultsHelpers';
import { meta, record, writeRun } from './faultsTraceData';

const tempDir = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'gl-faults-trace-'));

function osError(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${message}, write`), { code });
}

/** node:fs, except that the write calls to `file` fail (or come up short) once `afterWrites` have passed. */
function failingFs(file: string, afterWrites: number, fail: (fd: number, buf: Uint8Array, offset: number, length: number) => number): TraceFs & { writes: number } {
  const fds = new Map<number, string>();
  const stand: TraceFs & { writes: number } = {
    writes: 0,
    mkdirSync: fs.mkdirSync,
    renameSync: fs.renameSync,
    unlinkSync: fs.unlinkSync,
    closeSync: fs.closeSync,
    openSync: ((p: fs.PathLike, flags: fs.OpenMode) => {
      const fd = fs.openSync(p, flags);
      fds.set(fd, String(p));
      return fd;
    }) as typeof fs.openSync,
    writeSync: ((fd: number, buf: Uint8Array, offset?: number, length?: number) => {
      const at = offset ?? 0;
      const n = length ?? buf.length - at;
      if (path.basename(fds.get(fd) ?? '') === file && stand.writes++ >= afterWrites) return fail(fd, buf, at, n);
      return fs.writeSync(fd, buf, at, n);
    }) as typeof fs.writeSync,
  };
  return stand;
}

function appendUntilFailure(w: TraceWriter, max: number): { appended: number; error: TraceWriteError } {
  for (let s = 0; s < max; s++) {
    try {
      w.append(record(s));
    } catch (e) {
      assert.ok(e instanceof TraceWriteError, String(e));
      return { appended: s, error: e };
    }
  }
  assert.fail('no write failed');
}

describe('faults: trace writes', () => {
  it('ENOSPC on steps.bin mid-run: the error names the file and the OS error; the steps before it read back', () => {
    const dir = tempDir();
    const files = failingFs('steps.bin', 4, () => {
      throw osError('ENOSPC', 'no space left on device');
    });
    const w = new TraceWriter(dir, meta, files);
    const { appended, error } = appendUntilFailure(w, 10);
    assert.equal(appended, 3);
    assert.equal(error.message, `could not write ${dir}/steps.bin: no space left on device (ENOSPC)`);
    assert.equal(w.stepsWritten, 3);
    assert.throws(() => w.append(record(3)), (e) => e === error, 'a broken writer takes no more steps');
    const run = error.toRunError(w.stepsWritten);
    assert.deepEqual([run.kind, run.step], ['write', 3]);
    assert.match(run.message, /steps 0–2 are in the trace/);
    w.close({ state: 'failed', error: run });
    const r = TraceReader.open(dir);
    assert.equal(r.stepCount, 3);
    for (let s = 0; s < 3; s++) assert.equal(r.readStep(s).step, s);
    assert.equal(r.end?.error?.kind, 'write');
    r.close();
  });

  it('a short write (fewer bytes than asked, then none) is an error, not a step counted as written', () => {
    const dir = tempDir();
    let calls = 0;
    // The first short write really writes half the record, as a filling disk does.
    const files = failingFs('steps.bin', 2, (fd, buf, offset, length) => (calls++ === 0 ? fs.writeSync(fd, buf, offset, Math.floor(length / 2)) : 0));
    const w = new TraceWriter(dir, meta, files);
    const { appended, error } = appendUntilFailure(w, 10);
    assert.equal(appended, 1);
    assert.match(error.message, new RegExp(`could not write ${dir}/steps\\.bin: only \\d+ of \\d+ bytes could be written \\(is the disk full\\?\\)$`));
    w.close({ state: 'failed' });
    const r = TraceReader.open(dir);
    assert.equal(r.stepCount, 1);
    assert.match(r.damage.join('\n'), /torn record/);
    r.close();
  });

  it('EIO on index.bin: the error names index.bin; the record whose entry failed is not counted', () => {
    const dir = tempDir();
    const files = failingFs('index.bin', 3, () => {
      throw osError('EIO', 'i/o error');
    });
    const w = new TraceWriter(dir, meta, files);
    const { appended, error } = appendUntilFailure(w, 10);
    assert.equal(appended, 2);
    assert.equal(error.message, `could not write ${dir}/index.bin: i/o error (EIO)`);
    assert.equal(w.stepsWritten, 2);
  });

  it('EPERM when the folder cannot be written: the error names meta.json, and its temp file is gone', () => {
    const dir = tempDir();
    const files: TraceFs = {
      ...fs,
      openSync: (() => {
        throw Object.assign(new Error(`EPERM: operation not permitted, open '${dir}/meta.json.${process.pid}.tmp'`), { code: 'EPERM' });
      }) as typeof fs.openSync,
    };
    assert.throws(() => new TraceWriter(dir, meta, files), (e: Error) => e instanceof TraceWriteError && e.message === `could not write ${dir}/meta.json: operation not permitted (EPERM)`);
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  it('end.json that cannot be written: the error names it and end.json.<pid>.tmp is removed', () => {
    const dir = tempDir();
    const files = failingFs(`end.json.${process.pid}.tmp`, 0, () => {
      throw osError('ENOSPC', 'no space left on device');
    });
    const w = new TraceWriter(dir, meta, files);
    w.append(record(0));
    assert.throws(() => w.close({ state: 'finished' }), (e: Error) => e instanceof TraceWriteError && e.message === `could not write ${dir}/end.json: no space left on device (ENOSPC)`);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['index.bin', 'keyframes', 'meta.json', 'steps.bin']);
  });
});

/** Flips one byte in the middle of step `step`'s payload; returns the record's byte offset. */
function flipByteInStep(dir: string, step: number): number {
  const index = fs.readFileSync(path.join(dir, INDEX_FILE));
  const at = INDEX_HEADER.length + step * INDEX_ENTRY_BYTES;
  const offset = index.readDoubleLE(at + 8);
  const length = index.readUInt32LE(at + 16);
  const data = fs.readFileSync(path.join(dir, DATA_FILE));
  data[offset + 16 + Math.floor((length - 16) / 2)] ^= 0x5a;
  fs.writeFileSync(path.join(dir, DATA_FILE), data);
  return offset;
}

function damagedRun(steps: number): string {
  const dir = tempDir();
  writeRun(dir, steps).close({ state: 'finished' });
  return dir;
}

describe('faults: damaged traces', function () {
  this.timeout(60_000);

  it('one flipped byte in an indexed record: the run opens whole, that step reads as damaged at its byte, histories skip only it', () => {
    const dir = damagedRun(30);
    const offset = flipByteInStep(dir, 15);
    const r = TraceReader.open(dir);
    assert.equal(r.stepCount, 30);
    assert.throws(() => r.readStep(15), (e: Error) => e instanceof CorruptRecordError && e.message === `${dir}/steps.bin: the record of step 15 at byte ${offset} is damaged (record checksum does not match)`);
    for (const step of [14, 16, 29]) assert.equal(r.readStep(step).step, step);
    const history = r.history(0, 'activation', undefined, 100);
    assert.equal(history.steps.length, 29);
    assert.equal(history.skipped, 1);
    assert.ok(!history.steps.includes(15));
    assert.match(r.damage.join('\n'), new RegExp(`step 15 at byte ${offset}`));
    r.close();
  });

  it('show --step 15 on that record: a located message and exit 1, no stack; the steps around it still show', async () => {
    const dir = damagedRun(30);
    const offset = flipByteInStep(dir, 15);
    const bad = await runCli(['show', dir, '--step', '15']);
    assert.equal(bad.code, 1);
    assert.equal(bad.err.trim(), `gradient-lens: ${dir}/steps.bin: the record of step 15 at byte ${offset} is damaged (record checksum does not match)`);
    assertNoStack(bad.err);
    const good = await runCli(['show', dir, '--step', '16']);
    assert.equal(good.code, 0, good.err);
    await assertNoSurvivors(bad);
  });

  it('without index.bin, one bad byte costs one step: the scan resynchronises on the next whole record', () => {
    const dir = damagedRun(20);
    const offset = flipByteInStep(dir, 5);
    fs.rmSync(path.join(dir, INDEX_FILE));
    const r = TraceReader.open(dir);
    assert.equal(r.stepCount, 19);
    assert.deepEqual(r.index.map((e) => e.step), [...Array(20).keys()].filter((s) => s !== 5));
    for (const e of r.index) assert.equal(r.readStep(e.step).step, e.step);
    assert.match(r.damage.join('\n'), new RegExp(`the record at byte ${offset} of steps\\.bin is corrupt \\(record checksum does not match\\); \\d+ bytes skipped, reading goes on at byte \\d+`));
    r.close();
  });

  it('a bad frame header (magic) without the index is skipped the same way', () => {
    const dir = damagedRun(10);
    const index = fs.readFileSync(path.join(dir, INDEX_FILE));
    const offset = index.readDoubleLE(INDEX_HEADER.length + 3 * INDEX_ENTRY_BYTES + 8);
    const data = fs.readFileSync(path.join(dir, DATA_FILE));
    data[offset] ^= 0xff;
    fs.writeFileSync(path.join(dir, DATA_FILE), data);
    fs.rmSync(path.join(dir, INDEX_FILE));
    const r = TraceReader.open(dir);
    assert.equal(r.stepCount, 9);
    assert.match(r.damage.join('\n'), new RegExp(`byte ${offset} of steps\\.bin is corrupt \\(not a step record \\(bad magic\\)\\)`));
    r.close();
  });

  for (const [what, text, expected] of [
    ['{"formatVersion":1}', '{"formatVersion":1}', /meta\.json is not a Gradient Lens run description: runId: expected a string, got nothing$/],
    ['null', 'null', /meta\.json is not a Gradient Lens run description: expected an object, got null$/],
    ['truncated JSON', JSON.stringify(meta).slice(0, 200), /meta\.json is not valid JSON: /],
    ['a layer without its name', JSON.stringify({ ...meta, model: { ...meta.model, layers: [{ ...meta.model.layers[0], name: 7 }] } }), /meta\.json is not a Gradient Lens run description: model\.layers\[0\]\.name: expected a string, got number 7$/],
    ['format version 2', JSON.stringify({ ...meta, formatVersion: 2 }), /meta\.json: unknown trace format version 2$/],
  ] as const) {
    it(`meta.json of ${what}: a clear message naming the file and the field, through the CLI too`, async () => {
      const dir = damagedRun(2);
      fs.writeFileSync(path.join(dir, 'meta.json'), text);
      assert.throws(() => TraceReader.open(dir), (e: Error) => e instanceof TraceOpenError && expected.test(e.message) && e.message.startsWith(`${dir}/meta.json`));
      const run = await runCli(['show', dir]);
      assert.equal(run.code, 1);
      assert.match(run.err.trim(), expected);
      assertNoStack(run.err);
    });
  }
});
