// Writes a run's trace folder: meta.json, then append-only step records (steps.bin) and their
// index (index.bin), then end.json. Each record is written whole before its index entry, so a
// runner killed mid-write leaves at most one torn record, which the reader skips.
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

export function writeJsonAtomic(file: string, value: unknown): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(value, null, 2));
  fs.renameSync(tmp, file);
}

export class TraceWriter {
  private readonly dataFd: number;
  private readonly indexFd: number;
  private dataOffset: number;
  private written = 0;
  private closed = false;

  constructor(readonly dir: string, meta: RunMeta) {
    fs.mkdirSync(dir, { recursive: true });
    writeJsonAtomic(path.join(dir, META_FILE), meta);
    this.dataFd = fs.openSync(path.join(dir, DATA_FILE), 'w');
    this.indexFd = fs.openSync(path.join(dir, INDEX_FILE), 'w');
    fs.writeSync(this.dataFd, DATA_HEADER);
    fs.writeSync(this.indexFd, INDEX_HEADER);
    this.dataOffset = DATA_HEADER.length;
  }

  get stepsWritten(): number {
    return this.written;
  }

  /** Appends one step; returns the bytes it took. */
  append(record: StepRecord): number {
    const framed = encodeRecord(record);
    fs.writeSync(this.dataFd, framed);
    fs.writeSync(this.indexFd, encodeIndexEntry(indexEntryOf(record), this.dataOffset, framed.length));
    this.dataOffset += framed.length;
    this.written++;
    return framed.length;
  }

  close(end: Omit<RunEnd, 'endedAt' | 'steps'>): void {
    if (this.closed) return;
    this.closed = true;
    fs.closeSync(this.dataFd);
    fs.closeSync(this.indexFd);
    writeJsonAtomic(path.join(this.dir, END_FILE), { ...end, steps: this.written, endedAt: new Date().toISOString() } satisfies RunEnd);
  }
}
