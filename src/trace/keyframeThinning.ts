// Which keyframes a trace keeps under its byte budget. Keyframes are kept on a grid: every step
// that is a multiple of `stride` (the run's last step too, always). When the kept ones would not
// fit, the stride doubles and the keyframes off the new grid are dropped — so however long the
// run, those kept stay spread evenly over all of it (every k-th, k a power of two times the
// policy's spacing), never bunched at its start or end.

export interface KeptKeyframe {
  step: number;
  bytes: number;
}

export class KeyframeThinning {
  private readonly kept = new Map<number, number>();
  private keptTotal = 0;
  /** Keyframes on multiples of this are kept; Infinity once even step 0's would not fit. */
  private strideSteps: number;

  /** `every`: the policy's keyframe spacing (0: only the first and last step). */
  constructor(
    every: number,
    private readonly lastStep: number,
  ) {
    this.strideSteps = Math.max(1, every);
  }

  get bytes(): number {
    return this.keptTotal;
  }

  get stride(): number {
    return this.strideSteps;
  }

  get steps(): number[] {
    return [...this.kept.keys()].sort((a, b) => a - b);
  }

  /** Whether a keyframe of `step` would be kept now (before knowing its size). */
  onGrid(step: number): boolean {
    return step === this.lastStep || (Number.isFinite(this.strideSteps) && step % this.strideSteps === 0);
  }

  /**
   * Makes room for a keyframe of `bytes` at `step` within `allowance` bytes for all keyframes.
   * Returns the steps whose keyframes must be deleted, and whether this one is kept. A keyframe
   * larger than the allowance on its own is not kept, and costs no other.
   */
  admit(step: number, bytes: number, allowance: number): { keep: boolean; drop: number[] } {
    if (!this.onGrid(step) || bytes > allowance) return { keep: false, drop: [] };
    const drop: number[] = [];
    while (this.keptTotal + bytes > allowance && Number.isFinite(this.strideSteps)) {
      drop.push(...this.doubleStride());
      // Off the new grid, this one is not kept either: the survivors stay evenly spread.
      if (!this.onGrid(step)) return { keep: false, drop };
    }
    if (this.keptTotal + bytes > allowance) return { keep: false, drop };
    this.kept.set(step, bytes);
    this.keptTotal += bytes;
    return { keep: true, drop };
  }

  /** Doubles the stride until the kept keyframes fit in `allowance` (the budget shrank); returns the dropped steps. */
  thinTo(allowance: number): number[] {
    const drop: number[] = [];
    while (this.keptTotal > allowance && Number.isFinite(this.strideSteps)) drop.push(...this.doubleStride());
    if (this.keptTotal > allowance) drop.push(...this.dropAll());
    return drop;
  }

  /** Every other kept keyframe goes; past the run's length only the last step's is left on the grid. */
  private doubleStride(): number[] {
    this.strideSteps = this.strideSteps > this.lastStep ? Infinity : this.strideSteps * 2;
    const drop = [...this.kept.keys()].filter((s) => !this.onGrid(s));
    for (const s of drop) this.forget(s);
    return drop;
  }

  private dropAll(): number[] {
    const drop = [...this.kept.keys()];
    for (const s of drop) this.forget(s);
    return drop;
  }

  private forget(step: number): void {
    this.keptTotal -= this.kept.get(step) ?? 0;
    this.kept.delete(step);
  }
}
