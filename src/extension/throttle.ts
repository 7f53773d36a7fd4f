// Runs a job at most once per interval however often it is asked for: the first request waits
// out what is left of the interval since the last run, requests in between join it. Used to
// recompute a live run's comparison as steps arrive without diffing on every step.
export class Throttle {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private last = -Infinity;

  constructor(
    private readonly intervalMs: number,
    private readonly job: () => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Run the job once the interval since its last run is over (at once if it is). */
  request(): void {
    if (this.timer) return;
    const wait = Math.max(0, this.last + this.intervalMs - this.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.ran();
      this.job();
    }, wait);
  }

  /** The job's work was just done another way (e.g. a tolerance change): the interval starts again. */
  ran(): void {
    this.last = this.now();
  }

  /** Drops a pending run. */
  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  get pending(): boolean {
    return this.timer !== undefined;
  }
}
