// Runs the tracer in this process, on a chosen backend, for tests that check its numbers.
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../src/runner/backend';
import { LayerLocations } from '../../../src/runner/layerLocations';
import { resolveLoss } from '../../../src/runner/tracer/losses';
import { SequentialTracer, type ModelTracer } from '../../../src/runner/tracer/sequentialTracer';
import { GraphTracer } from '../../../src/runner/tracer/graphTracer';
import { StepScope, type StepOutcome } from '../../../src/runner/tracer/stepScope';
import type { PhaseStop } from '../../../src/shared/phases';
import type { LossName, Tensors } from '../../../src/api/index';

/** Backends to run the numeric tests on: the ones that load on this machine. */
export const TEST_BACKENDS = ['cpu', 'wasm'] as const;

export async function useBackend(name: 'cpu' | 'wasm'): Promise<void> {
  await selectBackend(name);
}

export function tracerFor(model: tf.LayersModel, loss: LossName, optimizer: tf.Optimizer = tf.train.sgd(0.1)): SequentialTracer {
  return new SequentialTracer(model, new LayerLocations(() => false), resolveLoss(loss), optimizer);
}

/** A functional model's tracer, as prepareRun builds it. */
export function graphTracerFor(model: tf.LayersModel, loss: LossName, optimizer: tf.Optimizer = tf.train.sgd(0.1)): GraphTracer {
  return new GraphTracer(model, new LayerLocations(() => false), resolveLoss(loss), optimizer);
}

export function runStep(tracer: ModelTracer, xs: Tensors, ys: Tensors): { stops: PhaseStop[]; outcome: StepOutcome } {
  const gen = tracer.step(xs, ys, new StepScope(true, [xs, ys].flat()));
  const stops: PhaseStop[] = [];
  for (;;) {
    const next = gen.next();
    if (next.done) return { stops, outcome: next.value };
    stops.push(next.value);
  }
}

/** Values of a captured tensor (read back), by layer, role and param. */
export function captured(outcome: StepOutcome, layer: number, role: string, param?: string): Float32Array {
  const c = outcome.scope.captures.find((x) => x.layer === layer && x.role === role && x.param === param);
  if (!c) throw new Error(`no capture ${layer}/${role}/${param ?? ''}`);
  const values = c.tensor.dataSync() as Float32Array;
  return c.baseline ? values.map((v, i) => v - c.baseline![i]) : values;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} ≠ ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** Runs `fn` on the cpu backend (the reference: it has every gradient kernel), then switches back. */
export async function onCpu<T>(fn: () => T): Promise<T> {
  const previous = tf.getBackend();
  await tf.setBackend('cpu');
  try {
    return fn();
  } finally {
    await tf.setBackend(previous);
  }
}
