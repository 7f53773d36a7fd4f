// Writes a run's trace folder: meta.json, then append-only step records (steps.bin) and their
// index (index.bin), keyframes (keyframes/, one file each), then end.json. Each record is written
// whole before its index entry, so a runner killed mid-write leaves at most one torn record, which
// the reader skips. A write that fails or comes up short (disk full, no permission, an I/O error)
// throws a TraceWriteError naming the OS error and the file, and the writer takes no more steps:
// nothing after a torn record could be read.
//
// The byte budget. Every step's record (summaries, histograms, the selected samples) goes into
// steps.bin; a keyframe's full tensors (whole batches, all parameters: 98 % of its bytes) go into
// a file of their own, compressed. Keyframes are what must thin out as a run grows, and deleting
// from the middle of an append-only file means rewriting it: compacting a few hundred MB each time
// the budget fills, on the capture worker, with a recovery path for a crash mid-compaction and a
// reader that may be reading the file being rewritten. A file per keyframe makes dropping one an
// unlink: nothing is rewritten, steps.bin keeps its append-only guarantees untouched, a killed
// writer leaves at most a temp file (written, then renamed), and a reader that lists the folder
// and then finds a keyframe gone reads that step without its full tensors. The cost is a folder
// of files — a few hundred at most, since the kept keyframes halve whenever they fill their share.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { KeyframePrecision, RunError, RunMeta, StepRecord, TensorValues } from '../shared/traceTypes';
import type { RunState } from '../shared/protocol';
import {
  DATA_FILE,
  DATA_HEADER,
  END_FILE,
  INDEX_FILE,
  INDEX_HEADER,
  META_FILE,
  encodeIndexEntry,
  INDEX_ENTRY_BYTES,
  encodeRecord,
  indexEntryOf,
} from './recordCodec';
import { KEYFRAME_DIR, encodeKeyframe, keyframeFileName } from './keyframeCodec';
import { KeyframeThinning } from './keyframeThinning';

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

/** Room kept for end.json, written last. */
const END_RESERVE = 1024;
/**
 * Ordinary steps keep their sample tensors while the step records of the whole run are projected
 * to fit in this share of the budget; beyond it they keep summaries only, so keyframes keep room.
 */
const STEP_RECORDS_SHARE = 0.75;

/** The trace reached its byte budget: even a step's summaries no longer fit. */
export function budgetError(file: string, budget: number, step: number): TraceWriteError {
  const size = budget >= 2 ** 20 ? `${(budget / 2 ** 20).toFixed(0)} MB` : `${budget} bytes`;
  return new TraceWriteError(
    file,
    'EBUDGET',
    `the trace reached its byte budget of ${size} at step ${step}: even this step's summaries do not fit (raise gradientLens.traceBudgetMB or --trace-budget)`,
  );
}

/** The rows `indices` of a batch tensor: the selected samples, as ordinary steps keep them. */
function sampleRows(t: TensorValues, indices: number[]): TensorValues {
  const rowSize = t.values.length / t.shape[0];
  const values = new Float32Array(indices.length * rowSize);
  indices.forEach((r, k) => values.set(t.values.subarray(r * rowSize, (r + 1) * rowSize), k * rowSize));
  return { layer: t.layer, role: t.role, param: t.param, scope: 'sample', sampleIndices: indices, shape: [indices.length, ...t.shape.slice(1)], values };
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
  private readonly budget: number;
  private readonly precision: KeyframePrecision;
  private readonly plannedSteps: number;
  private readonly sampleIndices: number[];
  private readonly thinning: KeyframeThinning;
  private readonly keyframeDir: string;
  /** meta.json and the two files' headers. */
  private readonly fixedBytes: number;
  /** steps.bin and index.bin beyond their headers. */
  private stepBytes = 0;
  private ordinaryBytes = 0;
  private ordinaryCount = 0;
  private leanSteps = false;

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
    const capture = meta.config.capture;
    this.budget = capture.traceBudgetBytes ?? Infinity;
    this.precision = capture.keyframePrecision ?? 'exact';
    this.plannedSteps = meta.config.steps;
    this.sampleIndices = capture.sampleIndices;
    this.thinning = new KeyframeThinning(capture.keyframeEvery, meta.config.steps - 1);
    this.fixedBytes = Buffer.byteLength(JSON.stringify(meta, null, 2)) + DATA_HEADER.length + INDEX_HEADER.length;
    this.keyframeDir = path.join(dir, KEYFRAME_DIR);
    try {
      files.mkdirSync(this.keyframeDir, { recursive: true });
      // A folder written over (the runner truncates steps.bin) must not keep an older run's keyframes.
      for (const name of fs.readdirSync(this.keyframeDir)) if (/^step-\d{10}\.glk(\.tmp)?$/.test(name)) files.unlinkSync(path.join(this.keyframeDir, name));
    } catch (e) {
      throw TraceWriteError.from(e, this.keyframeDir);
    }
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

  /** Steps whose full tensors are in the trace now (keyframes thin out as the run grows). */
  get keyframeSteps(): number[] {
    return this.thinning.steps;
  }

  /** Bytes of the trace folder now, end.json aside: what the budget bounds. */
  get bytes(): number {
    return this.fixedBytes + this.stepBytes + this.thinning.bytes;
  }

  /**
   * Appends one step; returns the bytes it took (its record and keyframe, if kept). Throws a
   * TraceWriteError (now and on every later call) when a write fails or the budget is reached.
   */
  append(record: StepRecord): number {
    if (this.broken) throw this.broken;
    try {
      return this.appendChecked(record);
    } catch (e) {
      this.broken = TraceWriteError.from(e, this.dataPath);
      throw this.broken;
    }
  }

  private appendChecked(record: StepRecord): number {
    const full = record.tensors.filter((t) => t.scope !== 'sample');
    const samples = record.tensors.filter((t) => t.scope === 'sample');
    for (const t of full) {
      if (t.scope !== 'batch') continue;
      const indices = this.sampleIndices.filter((i) => i < t.shape[0]);
      if (indices.length > 0) samples.push(sampleRows(t, indices));
    }
    let framed = encodeRecord({ ...record, tensors: samples });
    const remaining = Math.max(0, this.plannedSteps - this.written - 1);
    const perStep = (bytes: number) => bytes + INDEX_ENTRY_BYTES;
    // Once the run's step records would crowd out keyframes, ordinary steps keep summaries only.
    if (!this.leanSteps && this.fixedBytes + this.stepBytes + perStep(framed.length) * (remaining + 1) > this.budget * STEP_RECORDS_SHARE) this.leanSteps = true;
    const lean = () => encodeRecord({ ...record, tensors: [], samplesDropped: true });
    if (this.leanSteps && full.length === 0 && samples.length > 0) framed = lean();
    // The hard limit: keyframes give way first, then this step's samples; then the trace is full.
    const room = () => this.budget - this.fixedBytes - this.stepBytes - END_RESERVE - perStep(framed.length);
    if (room() < this.thinning.bytes) this.dropKeyframes(this.thinning.thinTo(Math.max(0, room())));
    if (room() < 0 && samples.length > 0) framed = lean();
    if (room() < 0) throw budgetError(this.dataPath, this.budget, record.step);

    // The keyframe's file goes first, the step's record after it: a reader that finds the step in
    // the index then finds its keyframe too (or none, never one still to come).
    const stepBytes = this.stepBytes + perStep(framed.length);
    if (full.length === 0) {
      this.ordinaryBytes += perStep(framed.length);
      this.ordinaryCount++;
    }
    // What keyframes may take: the budget less what the rest of the run's step records will, as
    // ordinary steps are written (before the first, this step's record as one would be).
    const average = this.ordinaryCount > 0 ? this.ordinaryBytes / this.ordinaryCount : perStep(this.leanSteps ? lean().length : framed.length);
    const allowance = Math.max(0, this.budget - this.fixedBytes - stepBytes - END_RESERVE - average * remaining);
    if (this.thinning.bytes > allowance) this.dropKeyframes(this.thinning.thinTo(allowance));
    let keyframeBytes = 0;
    if (full.length > 0 && this.thinning.onGrid(record.step)) {
      // The run's first keyframe goes uncompressed: the first step then reaches the user (its
      // stepDone waits for this write) ≈ 40 ms sooner at a cold start, for ≈ 1 MB more on disk.
      const keyframe = encodeKeyframe(record.step, full, this.precision, this.written > 0);
      const { keep, drop } = this.thinning.admit(record.step, keyframe.length, allowance);
      this.dropKeyframes(drop);
      if (keep) {
        this.writeFileAtomic(path.join(this.keyframeDir, keyframeFileName(record.step)), keyframe);
        keyframeBytes = keyframe.length;
      }
    }

    writeAll(this.files, this.dataFd, framed, this.dataPath);
    writeAll(this.files, this.indexFd, encodeIndexEntry(indexEntryOf(record), this.dataOffset, framed.length), this.indexPath);
    this.dataOffset += framed.length;
    this.stepBytes = stepBytes;
    this.written++;
    return framed.length + keyframeBytes;
  }

  private dropKeyframes(steps: number[]): void {
    for (const step of steps) {
      const file = path.join(this.keyframeDir, keyframeFileName(step));
      try {
        this.files.unlinkSync(file);
      } catch (e) {
        throw TraceWriteError.from(e, file);
      }
    }
  }

  /** Written to a temp name, then renamed: a reader never sees half a keyframe under its real name. */
  private writeFileAtomic(file: string, bytes: Uint8Array): void {
    const tmp = `${file}.tmp`;
    let fd: number | undefined;
    try {
      fd = this.files.openSync(tmp, 'w');
      writeAll(this.files, fd, bytes, file);
      this.files.closeSync(fd);
      fd = undefined;
      this.files.renameSync(tmp, file);
    } catch (e) {
      if (fd !== undefined) this.files.closeSync(fd);
      throw TraceWriteError.from(e, file);
    }
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
