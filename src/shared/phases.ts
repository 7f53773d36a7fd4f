import type { Phase } from './traceTypes';

/** One stop of the step-through: a phase, and the layer it concerns (-1 for loss and update). */
export interface PhaseStop {
  phase: Phase;
  layer: number;
}

/**
 * The order a training step is walked in: forward through every layer, the loss, backward from
 * the last layer to the first, then the optimizer's update.
 */
export function phaseStops(layerCount: number): PhaseStop[] {
  const stops: PhaseStop[] = [];
  for (let i = 0; i < layerCount; i++) stops.push({ phase: 'forward', layer: i });
  stops.push({ phase: 'loss', layer: -1 });
  for (let i = layerCount - 1; i >= 0; i--) stops.push({ phase: 'backward', layer: i });
  stops.push({ phase: 'update', layer: -1 });
  return stops;
}

export function describeStop(stop: PhaseStop, layerNames: string[]): string {
  switch (stop.phase) {
    case 'forward':
      return `forward · ${layerNames[stop.layer] ?? `layer ${stop.layer}`}`;
    case 'backward':
      return `backward · ${layerNames[stop.layer] ?? `layer ${stop.layer}`}`;
    case 'loss':
      return 'loss';
    case 'update':
      return 'update';
  }
}

/**
 * Where a held runner is, in words: "at step 0, forward · dense_Dense1"; the hold at entry (a
 * forward stop with no layer) is "before step 0".
 */
export function describeHold(at: { step: number } & PhaseStop, layerNames: string[]): string {
  if (at.phase === 'forward' && at.layer < 0) return `before step ${at.step}`;
  return `at step ${at.step}, ${describeStop(at, layerNames)}`;
}
