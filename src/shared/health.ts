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

/**
 * Layers whose own activation can die (output zero for every input): a pooling or reshaping
 * layer after one shows the same zeros, but the cause, and the advice, belong to the ReLU.
 */
function canDie(layer: LayerInfo): boolean {
  return layer.activation === 'relu' || layer.activation === 'relu6' || layer.type === 'ReLU' || layer.type === 'ThresholdedReLU';
}

/**
 * Layers whose dead fraction means something: those whose units can die, and those with no
 * activation of their own (pooling, flatten, dropout, merges), which pass a ReLU's zeros on. A
 * sigmoid, tanh, softmax or linear unit is never "dead": "0% dead" there was noise on its card.
 */
export function showsDeadUnits(layer: LayerInfo): boolean {
  return canDie(layer) || layer.activation === undefined;
}

/** What the runner knows beyond one step's tensors. */
export interface HealthContext {
  /**
   * The loss is falling (below the mean of the last few steps' losses). Large gradients or
   * updates next to the weights are then no explosion: Adam's first steps move every weight by
   * about the learning rate, and a regression's first gradients are large next to small
   * initial weights, while the loss falls as it should.
   */
  lossFalling: boolean;
}

export function layerHealth(summaries: TensorSummary[], layers: LayerInfo[], context: HealthContext = { lossFalling: false }): LayerHealth[] {
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
      deadFraction: showsDeadUnits(layer) ? activation?.deadUnitFraction : undefined,
      gradNorm: grad?.l2,
      gradToWeight: grad && weightsMeaningful ? grad.l2 / weight.l2 : undefined,
      updateToWeight: delta && weightsMeaningful ? delta.l2 / weight.l2 : undefined,
      nonFinite,
      flags: [],
    };
    if (nonFinite) health.flags.push('non-finite');
    if (canDie(layer) && (health.deadFraction ?? 0) >= HEALTH_THRESHOLDS.deadFraction) health.flags.push('dead-units');
    if (!nonFinite && health.gradToWeight !== undefined) {
      const t = HEALTH_THRESHOLDS;
      if (health.gradToWeight < t.vanishingGradToWeight) health.flags.push('vanishing-gradient');
      const large = health.gradToWeight > t.explodingGradToWeight || (health.updateToWeight ?? 0) > t.explodingUpdateToWeight;
      if (large && !context.lossFalling) {
        health.flags.push('exploding-gradient');
      }
    }
    return health;
  });
}

/** How many recent losses the trend compares a step's loss with. */
const LOSS_TREND_STEPS = 5;

/**
 * Follows a run's loss step by step, for the runner's health judgement: a step's loss is falling
 * when it is below the mean of the last few; the first step, with nothing to compare, is given
 * the benefit of the doubt (a diverging run shows it from its second step).
 */
export class LossTrend {
  private readonly recent: number[] = [];

  observe(loss: number): HealthContext {
    const mean = this.recent.length === 0 ? Infinity : this.recent.reduce((a, b) => a + b, 0) / this.recent.length;
    const lossFalling = Number.isFinite(loss) && loss < mean;
    this.recent.push(loss);
    if (this.recent.length > LOSS_TREND_STEPS) this.recent.shift();
    return { lossFalling };
  }
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
