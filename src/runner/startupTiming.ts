// Where the runner's start goes, for whoever works on cold start: with GRADIENT_LENS_TIMING=1
// the runner marks each stage (ms since its process started, as performance.now counts) and
// sends them as one log line once the first step is reported. Off, a mark costs one comparison.
let enabled = process.env.GRADIENT_LENS_TIMING === '1';

const marks: [stage: string, at: number][] = [];

export function markStage(stage: string): void {
  if (enabled) marks.push([stage, performance.now()]);
}

// The runner imports this module first: until here the time is Node's own start.
markStage('runner code runs');

/** The marks so far as one line ("timing: loaded 250.1 (+250.1), …"), and no more marks after it; undefined when off. */
export function takeTimingReport(): string | undefined {
  if (!enabled || marks.length === 0) return undefined;
  let previous = 0;
  const parts = marks.map(([stage, at]) => {
    const part = `${stage} ${at.toFixed(1)} (+${(at - previous).toFixed(1)})`;
    previous = at;
    return part;
  });
  marks.length = 0;
  enabled = false;
  return `timing: ${parts.join(', ')}`;
}
