// A few step records, least recently used first out: scrubbing a 100,000-step run keeps at most
// `capacity` records alive, whatever the user does.
import type { StepRecord } from '../src/shared/traceTypes';

export class StepCache {
  private readonly records = new Map<number, StepRecord>();

  constructor(private readonly capacity = 8) {}

  get(step: number): StepRecord | undefined {
    const record = this.records.get(step);
    if (record) {
      // Re-insert: Map iteration order is insertion order, so the first key is the least recent.
      this.records.delete(step);
      this.records.set(step, record);
    }
    return record;
  }

  put(record: StepRecord): void {
    this.records.delete(record.step);
    this.records.set(record.step, record);
    while (this.records.size > this.capacity) {
      const oldest = this.records.keys().next().value as number;
      this.records.delete(oldest);
    }
  }

  clear(): void {
    this.records.clear();
  }

  get size(): number {
    return this.records.size;
  }
}
