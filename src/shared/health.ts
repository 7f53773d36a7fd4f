import type { LayerInfo, TensorSummary } from './traceTypes';

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
  nonFinite: boolean;
  flags: HealthFlag[];
}

/** Thresholds behind the flags; documented so a warning can say what it means. */
export const HEALTH_THRESHOLDS = {
  deadFraction: 0.5,
  vanishingGradToWeight: 1e-6,
  explodingGradToWeight: 10,
};

export function layerHealth(summaries: TensorSummary[], layers: LayerInfo[]): LayerHealth[] {
  return layers.map((layer) => {
    const mine = summaries.filter((s) => s.layer === layer.index);
    const activation = mine.find((s) => s.role === 'activation')?.stats;
    const mainParam = layer.params[0]?.name;
    const grad = mine.find((s) => s.role === 'gradParam' && s.param === mainParam)?.stats;
    const weight = mine.find((s) => s.role === 'param' && s.param === mainParam)?.stats;
    const nonFinite = mine.some((s) => s.stats !== undefined && s.stats.nanCount + s.stats.infCount > 0);
    const health: LayerHealth = {
      layer: layer.index,
      activationMean: activation?.mean,
      activationStd: activation?.std,
      deadFraction: activation?.deadUnitFraction,
      gradNorm: grad?.l2,
      gradToWeight: grad && weight && weight.l2 > 0 ? grad.l2 / weight.l2 : undefined,
      nonFinite,
      flags: [],
    };
    if (nonFinite) health.flags.push('non-finite');
    if ((health.deadFraction ?? 0) >= HEALTH_THRESHOLDS.deadFraction) health.flags.push('dead-units');
    if (health.gradToWeight !== undefined && !nonFinite) {
      if (health.gradToWeight < HEALTH_THRESHOLDS.vanishingGradToWeight) health.flags.push('vanishing-gradient');
      if (health.gradToWeight > HEALTH_THRESHOLDS.explodingGradToWeight) health.flags.push('exploding-gradient');
    }
    return health;
  });
}

const FLAG_ADVICE: Record<HealthFlag, string> = {
  'non-finite': 'NaN or Inf values: lower the learning rate, check the inputs, or clip gradients.',
  'dead-units': 'Most units output zero for the whole batch: try a smaller learning rate, He initialisation, or LeakyReLU.',
  'vanishing-gradient': 'The gradient is tiny next to the weights: try ReLU instead of sigmoid/tanh, batch normalisation, or He/Glorot initialisation.',
  'exploding-gradient': 'The gradient is huge next to the weights: lower the learning rate, normalise inputs, or clip gradients.',
};

export function adviceFor(flag: HealthFlag): string {
  return FLAG_ADVICE[flag];
}
