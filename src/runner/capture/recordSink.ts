// Judges each step's record's health, appends the record to the trace, and says whether the run
// must stop there (a non-finite step). Runs in the capture worker (captureWorker.ts), off the
// training thread, which built the record (recordBuilder.ts).
import { LossTrend, layerHealth } from '../../shared/health';
import type { StepWritten } from '../../shared/protocol';
import type { RunMeta, StepRecord } from '../../shared/traceTypes';
import { indexEntryOf } from '../../trace/recordCodec';
import { TraceWriter, type RunEnd } from '../../trace/traceWriter';
import { nonFiniteError } from './nonFinite';

/** What writing a step tells the training thread (StepWritten, without the worker's timing). */
export type WrittenStep = Omit<StepWritten, 'type' | 'busyMs'>;

export class RecordSink {
  private readonly writer: TraceWriter;
  private failed = false;
  private readonly lossTrend = new LossTrend();

  constructor(
    outDir: string,
    private readonly meta: RunMeta,
  ) {
    this.writer = new TraceWriter(outDir, meta);
  }

  /** Writes the step; after a non-finite step, later ones (already in flight) are dropped. */
  write(built: StepRecord): WrittenStep {
    if (this.failed) return {};
    // Health is judged once, here, and stored with the record: every view reads it from there.
    const health = layerHealth(built.summaries, this.meta.model.layers, this.lossTrend.observe(built.loss));
    const record: StepRecord = { ...built, health };
    this.writer.append(record);
    const failure = nonFiniteError(record, this.meta.model.layers);
    if (failure) this.failed = true;
    return { entry: indexEntryOf(record), stepMs: record.stepMs, health, failure };
  }

  get stepsWritten(): number {
    return this.writer.stepsWritten;
  }

  close(end: Omit<RunEnd, 'endedAt' | 'steps'>): void {
    this.writer.close(end);
  }
}
