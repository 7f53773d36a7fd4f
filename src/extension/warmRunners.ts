// Runners started ahead of need. Starting one costs about half a second (Node, tfjs, the wasm
// backend), so "Trace This File" and the model-info builds take a runner that is already up, and
// another is started for the next time. Each runner serves one load or one run: tfjs numbers
// layers per process, so a runner that built a model before would call the next one's first layer
// dense_Dense4 where a fresh process says dense_Dense1. A spare waits in its event loop (no CPU),
// is killed after IDLE_MS unused, and dies with the extension (deactivate kills every runner; the
// runner also ends itself when its parent is gone).
import type * as vscode from 'vscode';
import type { RunnerPort } from './runnerPort';
import type { RunnerKind } from './settings';

/** A spare fits a run only if it was started the same way. */
function sameRunnerKind(a: RunnerKind, b: RunnerKind): boolean {
  return a.backend === b.backend && a.wasmThreads === b.wasmThreads;
}

/** How long a spare may wait unused before it is killed (it holds ~150 MB). */
const IDLE_MS = 10 * 60_000;
/** The next spare starts this long after one is taken, not alongside the run that took it. */
const REPLENISH_DELAY_MS = 3_000;

export class WarmRunners implements vscode.Disposable {
  private spare: { kind: RunnerKind; runner: Promise<RunnerPort> } | undefined;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  private replenishTimer: ReturnType<typeof setTimeout> | undefined;
  private disposed = false;

  constructor(
    private readonly spawn: (kind: RunnerKind) => Promise<RunnerPort>,
    private readonly timing = { idleMs: IDLE_MS, replenishDelayMs: REPLENISH_DELAY_MS },
  ) {}

  /** A runner of `kind` that has run nothing yet: the spare if it is up and fits, else a new one. */
  take(kind: RunnerKind): Promise<RunnerPort> {
    const spare = this.spare;
    this.spare = undefined;
    clearTimeout(this.idleTimer);
    let runner: Promise<RunnerPort>;
    if (spare && sameRunnerKind(spare.kind, kind)) {
      runner = spare.runner.then(
        (r) => (r.pid !== undefined ? r : this.spawn(kind)),
        () => this.spawn(kind),
      );
    } else {
      void spare?.runner.then((r) => r.dispose(), () => undefined);
      runner = this.spawn(kind);
    }
    clearTimeout(this.replenishTimer);
    this.replenishTimer = setTimeout(() => this.replenish(kind), this.timing.replenishDelayMs);
    return runner;
  }

  /** Whether a spare is waiting (for the tests). */
  get hasSpare(): boolean {
    return this.spare !== undefined;
  }

  private replenish(kind: RunnerKind): void {
    if (this.disposed || this.spare) return;
    const runner = this.spawn(kind);
    runner.catch(() => undefined);
    this.spare = { kind, runner };
    // A spare that dies (killed from outside, say) is forgotten; the next take starts one.
    void runner.then((r) => r.exited).then(() => {
      if (this.spare?.runner === runner) this.spare = undefined;
    }, () => undefined);
    this.idleTimer = setTimeout(() => this.killSpare(), this.timing.idleMs);
  }

  private killSpare(): void {
    const spare = this.spare;
    this.spare = undefined;
    void spare?.runner.then((r) => r.dispose(), () => undefined);
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.idleTimer);
    clearTimeout(this.replenishTimer);
    this.killSpare();
  }
}
