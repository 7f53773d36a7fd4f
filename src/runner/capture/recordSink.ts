// Builds each step's record from its capture, appends it to the trace, and judges its health.
// Runs in the capture worker (captureWorker.ts), off the training thread.
import { LossTrend, layerHealth, type LayerHealth } from '../../shared/health';
import type { RunError, RunMeta, StepIndexEntry } from '../../shared/traceTypes';
import { indexEntryOf } from '../../trace/recordCodec';
import { TraceWriter, type RunEnd } from '../../trace/traceWriter';
import { nonFiniteError } from './nonFinite';
import { buildStepRecord, type StepCapture } from './recordBuilder';

export interface WrittenStep {
  entry: StepIndexEntry;
  stepMs: number;
  health: LayerHealth[];
  /** Set when this step went non-finite: the run stops here. */
  failure?: RunError;
}

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
  write(capture: StepCapture): WrittenStep | undefined {
    if (this.failed) return undefined;
    const record = buildStepRecord(capture, this.meta.config.capture);
    // Health is judged once, here, and stored with the record: every view reads it from there.
    const health = layerHealth(record.summaries, this.meta.model.layers, this.lossTrend.observe(record.loss));
    record.health = health;
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
