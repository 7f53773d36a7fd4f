import type { LayerInfo, StepRecord, TensorSummary } from './traceTypes';

export type HealthFlag = 'non-finite' | 'dead-units' | 'vanishing-gradient' | 'exploding-gradient';

/** A layer's condition at one step, read off the step's tensor summaries. */
export interface LayerHealth {
  layer: number;
  activationMean?: number;
  activationStd?: number;
  /** Fraction of units that output zero for the whole batch (ReLU-style layers). */
  deadFraction?: number;
  /** L2 norm of ∂L/∂(main parameter), usually the kernel. */
  gradNorm?: number;
  /** ‖∂L/∂W‖ / ‖W‖: how strongly the gradient pushes relative to the weights' size. */
  gradToWeight?: number;
  /** ‖ΔW‖ / ‖W‖: how much one update changed the weights. */
  updateToWeight?: number;
  nonFinite: boolean;
  flags: HealthFlag[];
}

/** Thresholds behind the flags; documented so a warning can say what it means. */
export const HEALTH_THRESHOLDS = {
  deadFraction: 0.5,
  vanishingGradToWeight: 1e-6,
  explodingGradToWeight: 10,
  /** An update that moves the weights by half their size is a step out of control. */
  explodingUpdateToWeight: 0.5,
  /** Below this root-mean-square the weights are near zero and ratios to them say nothing. */
  meaningfulWeightRms: 1e-3,
};

export function layerHealth(summaries: TensorSummary[], layers: LayerInfo[]): LayerHealth[] {
  return layers.map((layer) => {
    const mine = summaries.filter((s) => s.layer === layer.index);
    const activation = mine.find((s) => s.role === 'activation')?.stats;
    const mainParam = layer.params[0]?.name;
    const grad = mine.find((s) => s.role === 'gradParam' && s.param === mainParam)?.stats;
    const weight = mine.find((s) => s.role === 'param' && s.param === mainParam)?.stats;
    const delta = mine.find((s) => s.role === 'delta' && s.param === mainParam)?.stats;
    const weightsMeaningful = weight !== undefined && weight.count > 0 && weight.l2 / Math.sqrt(weight.count) > HEALTH_THRESHOLDS.meaningfulWeightRms;
    const nonFinite = mine.some((s) => s.stats !== undefined && s.stats.nanCount + s.stats.infCount > 0);
    const health: LayerHealth = {
      layer: layer.index,
      activationMean: activation?.mean,
      activationStd: activation?.std,
      deadFraction: activation?.deadUnitFraction,
      gradNorm: grad?.l2,
      gradToWeight: grad && weightsMeaningful ? grad.l2 / weight.l2 : undefined,
      updateToWeight: delta && weightsMeaningful ? delta.l2 / weight.l2 : undefined,
      nonFinite,
      flags: [],
    };
    if (nonFinite) health.flags.push('non-finite');
    if ((health.deadFraction ?? 0) >= HEALTH_THRESHOLDS.deadFraction) health.flags.push('dead-units');
    if (!nonFinite && health.gradToWeight !== undefined) {
      const t = HEALTH_THRESHOLDS;
      if (health.gradToWeight < t.vanishingGradToWeight) health.flags.push('vanishing-gradient');
      if (health.gradToWeight > t.explodingGradToWeight || (health.updateToWeight ?? 0) > t.explodingUpdateToWeight) {
        health.flags.push('exploding-gradient');
      }
    }
    return health;
  });
}

const FLAG_ADVICE: Record<HealthFlag, string> = {
  'non-finite': 'NaN or Inf values: lower the learning rate, check the inputs, or clip gradients.',
  'dead-units': 'Most units output zero for the whole batch: try a smaller learning rate, He initialisation, or LeakyReLU.',
  'vanishing-gradient': 'Almost no gradient reaches this layer: saturated units (sigmoid or tanh far from 0, a softmax that is certain) pass none back. Try ReLU, smaller initial weights (He/Glorot), batch normalisation, or a lower learning rate.',
  'exploding-gradient': 'The gradient or the update is huge next to the weights: lower the learning rate, normalise the inputs, or clip gradients.',
};

/**
 * A record's layer health: as judged when it was written (once, in the runner), else judged now
 * (a trace written before health was stored, a held step's partial record). Everything that
 * shows health reads it here.
 */
export function healthOf(record: StepRecord, layers: LayerInfo[]): LayerHealth[] {
  return record.health ?? layerHealth(record.summaries, layers);
}

/** One layer's health in a record (undefined for a layer the record does not judge). */
export function layerHealthOf(record: StepRecord, layers: LayerInfo[], layer: number): LayerHealth | undefined {
  return healthOf(record, layers).find((h) => h.layer === layer);
}

export function adviceFor(flag: HealthFlag): string {
  return FLAG_ADVICE[flag];
}
