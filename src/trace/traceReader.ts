// Opens a trace folder and reads any step at random. Opening reads only meta.json and the index
// (32 bytes a step, kept in typed columns), so a 100,000-step run opens fast and stays small.
// A torn or corrupt tail (a killed runner) is detected, everything before it stays readable,
// and `damage` says what was lost. A damaged record in the middle costs only itself: reading it
// says which step and byte, histories skip it, and without an index the scan resynchronises on
// the next whole record. A keyframe's full tensors live in keyframes/ (one file each, see
// traceWriter.ts); traces written before that hold them inside their step records.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { HistorySeries } from '../shared/protocol';
import { FieldError } from '../shared/fieldChecks';
import { runMeta } from '../shared/messageValidators';
import type { RunMeta, StepIndexEntry, StepRecord, TensorRole, TensorValues } from '../shared/traceTypes';
import {
  CorruptRecordError,
  DATA_FILE,
  DATA_HEADER,
  END_FILE,
  FRAME_BYTES,
  INDEX_ENTRY_BYTES,
  INDEX_FILE,
  INDEX_HEADER,
  META_FILE,
  RECORD_MAGIC,
  decodeRecord,
  indexEntryOf,
  readFrame,
  readRecordSummaries,
} from './recordCodec';
import type { RunEnd } from './traceWriter';
import { CorruptKeyframeError, KEYFRAME_DIR, decodeKeyframe, keyframeFileName, stepOfKeyframeFile } from './keyframeCodec';

export class TraceOpenError extends Error {}
/** A read from a reader after `close()`. */
export class TraceClosedError extends Error {}

/** Growable typed columns: the index of a long run without an object per step. */
class IndexColumns {
  count = 0;
  steps = new Uint32Array(1024);
  offsets = new Float64Array(1024);
  lengths = new Uint32Array(1024);
  loss = new Float32Array(1024);
  accuracy = new Float32Array(1024);
  testAccuracy = new Float32Array(1024);

  push(step: number, offset: number, length: number, loss: number, accuracy: number, testAccuracy: number): void {
    if (this.count === this.steps.length) this.grow();
    const i = this.count++;
    this.steps[i] = step;
    this.offsets[i] = offset;
    this.lengths[i] = length;
    this.loss[i] = loss;
    this.accuracy[i] = accuracy;
    this.testAccuracy[i] = testAccuracy;
  }

  private grow(): void {
    const n = this.steps.length * 2;
    const grow = <T extends Uint32Array | Float64Array | Float32Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(n);
      b.set(a);
      return b;
    };
    this.steps = grow(this.steps);
    this.offsets = grow(this.offsets);
    this.lengths = grow(this.lengths);
    this.loss = grow(this.loss);
    this.accuracy = grow(this.accuracy);
    this.testAccuracy = grow(this.testAccuracy);
  }
}

const orNull = (v: number): number | null => (Number.isNaN(v) ? null : v);

export class TraceReader {
  readonly damage: string[] = [];
  private readonly columns = new IndexColumns();
  /** -1 once closed: the number may since belong to another file, so nothing reads it again. */
  private dataFd: number;
  private dataEnd = DATA_HEADER.length;
  private indexBytesRead = INDEX_HEADER.length;
  /** Steps with a keyframe file, sorted; undefined for a trace written before keyframes had files. */
  private keyframeFiles: number[] | undefined;

  private constructor(
    readonly dir: string,
    readonly meta: RunMeta,
    private readonly live: boolean,
  ) {
    this.dataFd = fs.openSync(path.join(dir, DATA_FILE), 'r');
    const header = Buffer.alloc(DATA_HEADER.length);
    fs.readSync(this.dataFd, header, 0, header.length, 0);
    if (!header.equals(DATA_HEADER)) {
      fs.closeSync(this.dataFd);
      throw new TraceOpenError(`${path.join(dir, DATA_FILE)} is not a Gradient Lens step file (bad header)`);
    }
    this.refresh();
  }

  /** `live`: the run may still be writing, so a partial last record is not damage. */
  static open(dir: string, options: { live?: boolean } = {}): TraceReader {
    const metaPath = path.join(dir, META_FILE);
    if (!fs.existsSync(metaPath)) throw new TraceOpenError(`${dir} is not a Gradient Lens trace: it has no ${META_FILE}`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(fs.readFileSync(metaPath, 'utf8'));
    } catch (e) {
      throw new TraceOpenError(`${metaPath} is not valid JSON: ${(e as Error).message}`);
    }
    const version = typeof parsed === 'object' && parsed !== null ? (parsed as { formatVersion?: unknown }).formatVersion : undefined;
    if (version !== undefined && version !== 1) throw new TraceOpenError(`${metaPath}: unknown trace format version ${JSON.stringify(version)}`);
    let meta: RunMeta;
    try {
      meta = runMeta(parsed, '');
    } catch (e) {
      if (e instanceof FieldError) throw new TraceOpenError(`${metaPath} is not a Gradient Lens run description: ${e.message}`);
      throw e;
    }
    if (!fs.existsSync(path.join(dir, DATA_FILE))) throw new TraceOpenError(`${dir} has no ${DATA_FILE}: the run recorded no step`);
    return new TraceReader(dir, meta, options.live ?? false);
  }

  get stepCount(): number {
    return this.columns.count;
  }

  /** How the run ended, or undefined when it was cut short (or is still running). */
  get end(): RunEnd | undefined {
    try {
      return JSON.parse(fs.readFileSync(path.join(this.dir, END_FILE), 'utf8')) as RunEnd;
    } catch {
      return undefined;
    }
  }

  entry(i: number): StepIndexEntry {
    const c = this.columns;
    return { step: c.steps[i], loss: c.loss[i], accuracy: orNull(c.accuracy[i]), testAccuracy: orNull(c.testAccuracy[i]) };
  }

  /** Every index entry as objects (for small runs and tests; prefer `curve` for the panel). */
  get index(): StepIndexEntry[] {
    return Array.from({ length: this.stepCount }, (_, i) => this.entry(i));
  }

  /**
   * Picks up steps appended since the last call (a live run), validating the index against the
   * data file and recovering records the index never got. Returns how many steps were added.
   */
  refresh(): number {
    const before = this.columns.count;
    const dataSize = fs.fstatSync(this.openFd()).size;
    this.readIndexTail(dataSize);
    this.scanUnindexed(dataSize);
    this.listKeyframes();
    return this.columns.count - before;
  }

  private listKeyframes(): void {
    let names: string[];
    try {
      names = fs.readdirSync(path.join(this.dir, KEYFRAME_DIR));
    } catch {
      this.keyframeFiles = undefined;
      return;
    }
    const steps: number[] = [];
    for (const name of names) {
      const step = stepOfKeyframeFile(name);
      if (step !== undefined) steps.push(step);
    }
    this.keyframeFiles = steps.sort((a, b) => a - b);
  }

  /**
   * The recorded steps whose full tensors (whole batches, all parameters) are in the trace: the
   * kept keyframes. For a trace from before keyframe files, where its policy put keyframes.
   */
  get fullTensorSteps(): number[] {
    const last = this.stepCount > 0 ? this.columns.steps[this.stepCount - 1] : -1;
    if (this.keyframeFiles) return this.keyframeFiles.filter((s) => s <= last);
    const { steps, capture } = this.meta.config;
    const keyframeEvery = capture.keyframeEvery;
    const out: number[] = [];
    if (last < 0) return out;
    out.push(0);
    if (keyframeEvery > 0) for (let s = keyframeEvery; s <= last; s += keyframeEvery) out.push(s);
    if (steps - 1 <= last && out[out.length - 1] !== steps - 1) out.push(steps - 1);
    return out;
  }

  /** The keyframe file's tensors of `step`; undefined when the step has none (or it was thinned since the folder was listed). */
  private readKeyframe(step: number): TensorValues[] | undefined {
    if (!this.keyframeFiles || !this.keyframeFiles.includes(step)) return undefined;
    const file = path.join(this.dir, KEYFRAME_DIR, keyframeFileName(step));
    let buf: Buffer;
    try {
      buf = fs.readFileSync(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      // The writer thinned it out after we listed the folder.
      this.keyframeFiles = this.keyframeFiles.filter((s) => s !== step);
      return undefined;
    }
    return decodeKeyframe(buf, file, step);
  }

  private readIndexTail(dataSize: number): void {
    const indexPath = path.join(this.dir, INDEX_FILE);
    if (!fs.existsSync(indexPath)) {
      if (this.indexBytesRead === INDEX_HEADER.length) this.damage.push(`${INDEX_FILE} is missing: the steps were recovered from ${DATA_FILE}`);
      return;
    }
    const fd = fs.openSync(indexPath, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const whole = Math.floor((size - this.indexBytesRead) / INDEX_ENTRY_BYTES);
      if (whole <= 0) return;
      const buf = Buffer.alloc(whole * INDEX_ENTRY_BYTES);
      fs.readSync(fd, buf, 0, buf.length, this.indexBytesRead);
      for (let k = 0; k < whole; k++) {
        const at = k * INDEX_ENTRY_BYTES;
        const offset = buf.readDoubleLE(at + 8);
        const length = buf.readUInt32LE(at + 16);
        // An index entry must point at the next record, wholly inside the data file.
        if (offset !== this.dataEnd || offset + length > dataSize) break;
        this.columns.push(buf.readUInt32LE(at), offset, length, buf.readFloatLE(at + 20), buf.readFloatLE(at + 24), buf.readFloatLE(at + 28));
        this.dataEnd = offset + length;
        this.indexBytesRead += INDEX_ENTRY_BYTES;
      }
    } finally {
      fs.closeSync(fd);
    }
  }

  /**
   * Records written after the last index entry (the runner died between the two writes, or there
   * is no index). A bad record is skipped to the next whole one; a bad end is a torn tail.
   */
  private scanUnindexed(dataSize: number): void {
    while (this.dataEnd < dataSize) {
      const found = this.recordAt(this.dataEnd, dataSize);
      if ('record' in found) {
        this.pushRecord(this.dataEnd, found.length, found.record);
        this.dataEnd += found.length;
        continue;
      }
      const next = this.nextWholeRecord(this.dataEnd + 1, dataSize);
      if (!next) {
        if (this.live) return;
        this.damage.push(
          found.torn
            ? `${DATA_FILE} ends with ${dataSize - this.dataEnd} bytes of a torn record (lost)`
            : `the record at byte ${this.dataEnd} of ${DATA_FILE} is corrupt (${found.reason}); the trace stops before it`,
        );
        return;
      }
      this.damage.push(`the record at byte ${this.dataEnd} of ${DATA_FILE} is corrupt (${found.reason}); ${next.at - this.dataEnd} bytes skipped, reading goes on at byte ${next.at}`);
      this.pushRecord(next.at, next.length, next.record);
      this.dataEnd = next.at + next.length;
    }
  }

  private pushRecord(offset: number, length: number, record: StepRecord): void {
    const e = indexEntryOf(record);
    this.columns.push(e.step, offset, length, e.loss, e.accuracy ?? NaN, e.testAccuracy ?? NaN);
  }

  /** The whole, checksummed record starting at `at`, or why there is none (`torn`: it runs past the end). */
  private recordAt(at: number, dataSize: number): { record: StepRecord; length: number } | { torn: boolean; reason: string } {
    if (at + FRAME_BYTES > dataSize) return { torn: true, reason: 'its frame is cut short' };
    const frame = readFrame(this.readAt(at, FRAME_BYTES));
    if (!frame) return { torn: false, reason: 'not a step record (bad magic)' };
    const length = FRAME_BYTES + frame.payloadLength;
    if (at + length > dataSize) return { torn: true, reason: 'it runs past the end of the file' };
    try {
      return { record: this.decodeAt(at, length), length };
    } catch (e) {
      return { torn: false, reason: (e as Error).message };
    }
  }

  /** Scans forward for the next record whose frame and checksum hold (the resynchronisation point). */
  private nextWholeRecord(from: number, dataSize: number): { at: number; record: StepRecord; length: number } | undefined {
    const magic = Buffer.alloc(4);
    magic.writeUInt32LE(RECORD_MAGIC);
    const WINDOW = 1 << 20;
    for (let start = from; start < dataSize; start += WINDOW - 3) {
      const window = this.readAt(start, Math.min(WINDOW, dataSize - start));
      for (let i = window.indexOf(magic); i >= 0; i = window.indexOf(magic, i + 1)) {
        const found = this.recordAt(start + i, dataSize);
        if ('record' in found) return { at: start + i, ...found };
      }
    }
    return undefined;
  }

  private readAt = (offset: number, length: number): Buffer => {
    const buf = Buffer.alloc(length);
    fs.readSync(this.openFd(), buf, 0, length, offset);
    return buf;
  };

  private openFd(): number {
    if (this.dataFd < 0) throw new TraceClosedError(`${path.join(this.dir, DATA_FILE)} was closed: the run it belongs to has ended in this window`);
    return this.dataFd;
  }

  private decodeAt(offset: number, length: number): StepRecord {
    return decodeRecord(this.readAt(offset, length));
  }

  /** Position of a step in the index (steps are normally 0..n-1, so usually i === step). */
  positionOf(step: number): number {
    const c = this.columns;
    if (step < c.count && c.steps[step] === step) return step;
    let lo = 0;
    let hi = c.count - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (c.steps[mid] === step) return mid;
      if (c.steps[mid] < step) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** Reads one step; a damaged record throws a CorruptRecordError naming the step, the file and the byte. */
  readStep(step: number): StepRecord {
    this.openFd();
    const i = this.positionOf(step);
    if (i < 0) throw new RangeError(`step ${step} is not in this trace (it has steps ${this.stepCount > 0 ? `0–${this.columns.steps[this.stepCount - 1]}` : 'none'})`);
    const offset = this.columns.offsets[i];
    let record: StepRecord;
    try {
      record = this.decodeAt(offset, this.columns.lengths[i]);
      if (record.step !== step) throw new CorruptRecordError(`it holds step ${record.step}, not ${step}: the index does not match ${DATA_FILE}`);
    } catch (e) {
      throw this.corrupt(step, offset, e);
    }
    if (!this.keyframeFiles || !record.keyframe) return record;
    let full: TensorValues[] | undefined;
    try {
      full = this.readKeyframe(step);
    } catch (e) {
      if (!(e instanceof CorruptKeyframeError)) throw e;
      if (!this.damage.includes(e.message)) this.damage.push(e.message);
      throw new CorruptRecordError(e.message);
    }
    if (!full) return { ...record, keyframeDropped: true };
    // The whole batch replaces the selected rows the step record keeps for when it is thinned.
    const key = (t: TensorValues) => `${t.layer}/${t.role}/${t.param ?? ''}`;
    const batch = new Set(full.filter((t) => t.scope === 'batch').map(key));
    return { ...record, tensors: [...record.tensors.filter((t) => !(t.scope === 'sample' && batch.has(key(t)))), ...full] };
  }

  /** What a damaged record is reported as, once, in `damage` too. */
  private corrupt(step: number, offset: number, e: unknown): CorruptRecordError {
    const message = `${path.join(this.dir, DATA_FILE)}: the record of step ${step} at byte ${offset} is damaged (${(e as Error).message})`;
    if (!this.damage.includes(message)) this.damage.push(message);
    return new CorruptRecordError(message);
  }

  /** The loss curve with at most `maxPoints` points: every k-th step, always the last. */
  curve(maxPoints = 2000): StepIndexEntry[] {
    const n = this.stepCount;
    if (n <= maxPoints) return this.index;
    const stride = Math.ceil(n / maxPoints);
    const out: StepIndexEntry[] = [];
    for (let i = 0; i < n; i += stride) out.push(this.entry(i));
    if (out[out.length - 1].step !== this.columns.steps[n - 1]) out.push(this.entry(n - 1));
    return out;
  }

  /** Histograms of one tensor across the run, at most `maxColumns` evenly spaced steps. */
  history(layer: number, role: TensorRole, param: string | undefined, maxColumns: number): HistorySeries {
    const n = this.stepCount;
    const stride = Math.max(1, Math.ceil(n / maxColumns));
    const series: HistorySeries = { type: 'history', layer, role, param, steps: [], ranges: [], histograms: [] };
    this.openFd();
    let skipped = 0;
    for (let i = 0; i < n; i += stride) {
      let summaries;
      try {
        summaries = readRecordSummaries(this.readAt, this.columns.offsets[i], this.columns.lengths[i]);
      } catch (e) {
        // One damaged record costs its own column, not the whole strip.
        this.corrupt(this.columns.steps[i], this.columns.offsets[i], e);
        skipped++;
        continue;
      }
      const s = summaries.find((t) => t.layer === layer && t.role === role && t.param === param);
      if (!s?.stats) continue;
      series.steps.push(this.columns.steps[i]);
      series.ranges.push([s.stats.min, s.stats.max]);
      series.histograms.push(Array.from(s.stats.histogram));
    }
    if (skipped > 0) series.skipped = skipped;
    return series;
  }

  /** Idempotent; any read after it throws TraceClosedError. */
  close(): void {
    if (this.dataFd < 0) return;
    fs.closeSync(this.dataFd);
    this.dataFd = -1;
  }
}
