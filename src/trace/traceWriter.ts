// Writes a run's trace folder: meta.json, then append-only step records (steps.bin) and their
// index (index.bin), then end.json. Each record is written whole before its index entry, so a
// runner killed mid-write leaves at most one torn record, which the reader skips. A write that
// fails or comes up short (disk full, no permission, an I/O error) throws a TraceWriteError
// naming the OS error and the file, and the writer takes no more steps: nothing after a torn
// record could be read.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RunError, RunMeta, StepRecord } from '../shared/traceTypes';
import type { RunState } from '../shared/protocol';
import {
  DATA_FILE,
  DATA_HEADER,
  END_FILE,
  INDEX_FILE,
  INDEX_HEADER,
  META_FILE,
  encodeIndexEntry,
  encodeRecord,
  indexEntryOf,
} from './recordCodec';

/** How the run ended, written last; a trace without it was cut short. */
export interface RunEnd {
  state: Extract<RunState, 'finished' | 'stopped' | 'failed'>;
  steps: number;
  error?: RunError;
  endedAt: string;
}

/** The file-system calls the writer makes: node:fs, or a stand-in that fails on cue (tests). */
export type TraceFs = Pick<typeof fs, 'mkdirSync' | 'openSync' | 'writeSync' | 'closeSync' | 'renameSync' | 'unlinkSync'>;

/** Writing the trace failed; `message` names the OS error and the file, for the user. */
export class TraceWriteError extends Error {
  constructor(
    readonly file: string,
    readonly code: string,
    detail: string,
  ) {
    super(`could not write ${file}: ${detail}`);
  }

  static from(e: unknown, file: string): TraceWriteError {
    if (e instanceof TraceWriteError) return e;
    const err = e as NodeJS.ErrnoException;
    const code = err.code ?? 'EIO';
    // Node's message repeats the call and path ("ENOSPC: no space left on device, write"): keep the reason.
    const reason = (err.message ?? String(e)).replace(/^[A-Z]+: /, '').replace(/, \w+( '.*')?$/, '');
    return new TraceWriteError(file, code, `${reason} (${code})`);
  }

  toRunError(stepsWritten: number): RunError {
    const kept = stepsWritten === 0 ? 'no step is in the trace' : `steps 0–${stepsWritten - 1} are in the trace`;
    return { kind: 'write', message: `${this.message}; the run stopped (${kept})`, step: stepsWritten > 0 ? stepsWritten : undefined };
  }
}

/** Writes all of `buf`, looping over partial writes; a write that makes no progress is an error. */
function writeAll(files: TraceFs, fd: number, buf: Uint8Array, file: string): void {
  let done = 0;
  try {
    while (done < buf.length) {
      const n = files.writeSync(fd, buf, done, buf.length - done);
      if (n <= 0) throw new TraceWriteError(file, 'ENOSPC', `only ${done} of ${buf.length} bytes could be written (is the disk full?)`);
      done += n;
    }
  } catch (e) {
    throw TraceWriteError.from(e, file);
  }
}

/** Writes JSON to a temp file and renames it into place; the temp file never outlives a failure. */
export function writeJsonAtomic(file: string, value: unknown, files: TraceFs = fs): void {
  const tmp = `${file}.${process.pid}.tmp`;
  let fd: number | undefined;
  try {
    fd = files.openSync(tmp, 'w');
    writeAll(files, fd, Buffer.from(JSON.stringify(value, null, 2)), file);
    files.closeSync(fd);
    fd = undefined;
    files.renameSync(tmp, file);
  } catch (e) {
    if (fd !== undefined) files.closeSync(fd);
    try {
      files.unlinkSync(tmp);
    } catch {
      // Never created, or already renamed.
    }
    throw TraceWriteError.from(e, file);
  }
}

export class TraceWriter {
  private readonly dataFd: number;
  private readonly indexFd: number;
  private readonly dataPath: string;
  private readonly indexPath: string;
  private dataOffset: number;
  private written = 0;
  private closed = false;
  private broken?: TraceWriteError;

  constructor(
    readonly dir: string,
    meta: RunMeta,
    private readonly files: TraceFs = fs,
  ) {
    try {
      files.mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw TraceWriteError.from(e, dir);
    }
    writeJsonAtomic(path.join(dir, META_FILE), meta, files);
    this.dataPath = path.join(dir, DATA_FILE);
    this.indexPath = path.join(dir, INDEX_FILE);
    this.dataFd = this.open(this.dataPath);
    this.indexFd = this.open(this.indexPath);
    writeAll(files, this.dataFd, DATA_HEADER, this.dataPath);
    writeAll(files, this.indexFd, INDEX_HEADER, this.indexPath);
    this.dataOffset = DATA_HEADER.length;
  }

  private open(file: string): number {
    try {
      return this.files.openSync(file, 'w');
    } catch (e) {
      throw TraceWriteError.from(e, file);
    }
  }

  get stepsWritten(): number {
    return this.written;
  }

  /** Appends one step; returns the bytes it took. Throws a TraceWriteError (now and on every later call) when a write fails. */
  append(record: StepRecord): number {
    if (this.broken) throw this.broken;
    const framed = encodeRecord(record);
    try {
      writeAll(this.files, this.dataFd, framed, this.dataPath);
      writeAll(this.files, this.indexFd, encodeIndexEntry(indexEntryOf(record), this.dataOffset, framed.length), this.indexPath);
    } catch (e) {
      this.broken = TraceWriteError.from(e, this.dataPath);
      throw this.broken;
    }
    this.dataOffset += framed.length;
    this.written++;
    return framed.length;
  }

  /** Closes the files and writes end.json; throws a TraceWriteError if that cannot be written (the files are closed either way). */
  close(end: Omit<RunEnd, 'endedAt' | 'steps'>): void {
    if (this.closed) return;
    this.closed = true;
    this.files.closeSync(this.dataFd);
    this.files.closeSync(this.indexFd);
    writeJsonAtomic(path.join(this.dir, END_FILE), { ...end, steps: this.written, endedAt: new Date().toISOString() } satisfies RunEnd, this.files);
  }
}
