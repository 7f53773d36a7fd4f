// Faults in writing a trace, through the writer's file-system seam: each failure the OS can give
// (no space, no permission, an I/O error, a write that comes up short) stops the writer with the
// OS error and the file, no step is counted before its record is written, and no temp file is left.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TraceReader } from '../../src/trace/traceReader';
import { TraceWriteError, TraceWriter, type TraceFs } from '../../src/trace/traceWriter';
import { meta, record } from './faultsTraceData';

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
    assert.deepEqual(fs.readdirSync(dir).sort(), ['index.bin', 'meta.json', 'steps.bin']);
  });
});
