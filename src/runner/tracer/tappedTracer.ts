// Traces a model written from raw tf ops. Its forward function is the user's, run whole: each
// `tap(name, value)` records a stage's value and, through an identity with a custom gradient,
// the gradient that flows back through it. The phases then step through what was recorded.
import * as tf from '@tensorflow/tfjs';
import type { Tap, TapOptions, TappedModel } from '../../api/index';
import type { LayerInfo, ModelSummary, SourceLocation } from '../../shared/traceTypes';
import { LocatedError } from '../runError';
import type { LayerLocations } from '../layerLocations';
import { batchAccuracy, heldOutBatch, type Loss } from './losses';
import type { Tensors } from '../../api/index';
import { oneTensor } from '../exampleTensors';
import { paramFormula } from './layerInfo';
import type { ModelTracer } from './sequentialTracer';
import { stepOutcome, type StepGenerator, type StepScope } from './stepScope';
import { vjp } from './vjp';
import { applyUpdate, type ParamGradient } from './update';

interface Stage {
  name: string;
  /** Output shape on the sample batch, batch dimension first. */
  shape: number[];
  role: 'preactivation' | 'activation';
  params: Record<string, tf.Variable>;
  location?: SourceLocation;
}

export class TappedTracer implements ModelTracer {
  readonly summary: ModelSummary;
  private readonly stages: Stage[];

  constructor(
    private readonly model: TappedModel,
    private readonly locations: LayerLocations,
    private readonly loss: Loss,
    private readonly optimizer: tf.Optimizer,
    sampleInput: tf.Tensor,
  ) {
    this.stages = this.discoverStages(sampleInput);
    const layers: LayerInfo[] = this.stages.map((s, index) => {
      const params = Object.entries(s.params).map(([name, v]) => ({ name, shape: v.shape, count: v.size, trainable: v.trainable }));
      return {
        index,
        name: s.name,
        type: 'Tap',
        inputShape: [null, ...(index === 0 ? sampleInput.shape : this.stages[index - 1].shape).slice(1)],
        outputShape: [null, ...s.shape.slice(1)],
        params,
        paramCount: params.reduce((n, p) => n + p.count, 0),
        paramFormula: paramFormula(params),
        location: s.location,
        nativeBackward: false,
      };
    });
    const total = layers.reduce((n, l) => n + l.paramCount, 0);
    this.summary = { name: model.name, kind: 'tapped', inputShape: [null, ...model.inputShape], layers, totalParams: total, trainableParams: total };
  }

  /** One dry forward pass on a sample batch finds the stages, their order, shapes and source lines. */
  private discoverStages(x: tf.Tensor): Stage[] {
    const stages: Stage[] = [];
    const tap: Tap = (name, value, options?: TapOptions) => {
      if (stages.some((s) => s.name === name)) {
        throw new LocatedError({ kind: 'contract', message: `Two stages are tapped with the same name '${name}'.`, location: this.locations.locate(new Error().stack) });
      }
      stages.push({ name, shape: value.shape, role: options?.role ?? 'activation', params: options?.params ?? {}, location: this.locations.locate(new Error().stack) });
      return value;
    };
    tf.tidy(() => {
      this.model.forward(x, tap);
    });
    if (stages.length === 0) {
      throw new LocatedError({ kind: 'contract', message: `The hand-written model '${this.model.name}' taps no stage: mark its stages with tap('name', value).` });
    }
    return stages;
  }

  evaluate(xs: Tensors, ys: Tensors): { loss: number; accuracy?: number } {
    return tf.tidy(() => heldOutBatch(this.loss, oneTensor(ys, 'targets'), this.model.forward(oneTensor(xs, 'inputs'), (_name, value) => value)));
  }

  *step(inputs: Tensors, targets: Tensors, scope: StepScope): StepGenerator {
    const xs = oneTensor(inputs, 'inputs');
    const ys = oneTensor(targets, 'targets');
    const values: tf.Tensor[] = [];
    const gradsOfStages: (tf.Tensor | undefined)[] = [];
    const params = this.stages.flatMap((s, layer) => Object.entries(s.params).map(([param, variable]) => ({ layer, param, variable })));
    let prediction!: tf.Tensor;
    let lossValue!: tf.Scalar;

    const paramGrads = tf.tidy(() => {
      let i = 0;
      const tap: Tap = (_name, value) => {
        const index = i++;
        values[index] = scope.keep(value.clone());
        const identity = tf.customGrad(((v: tf.Tensor) => ({
          value: v.clone(),
          gradFunc: (dy: tf.Tensor) => {
            gradsOfStages[index] = scope.keep(dy.clone());
            return dy;
          },
        })) as unknown as Parameters<typeof tf.customGrad>[0]);
        return identity(value) as tf.Tensor;
      };
      const grads = vjp(
        () => {
          prediction = scope.keep(this.model.forward(xs, tap));
          lossValue = scope.keep(this.loss.fn(ys, prediction));
          return lossValue.clone(); // vjp frees the value it differentiates
        },
        params.map((p) => p.variable),
        tf.scalar(1),
      );
      return grads.map((g) => scope.keep(g));
    });
    scope.sinkFor(0)('input', xs);

    for (let i = 0; i < this.stages.length; i++) {
      scope.sinkFor(i)(this.stages[i].role, values[i]);
      yield { phase: 'forward', layer: i };
    }
    const loss = lossValue.dataSync()[0];
    const acc = tf.tidy(() => {
      const a = batchAccuracy(this.loss.name, ys, prediction);
      return a ? a.dataSync()[0] : undefined;
    });
    scope.lossPhase = { loss, accuracy: acc, prediction };
    yield { phase: 'loss', layer: -1 };

    const grads: ParamGradient[] = [];
    for (let i = this.stages.length - 1; i >= 0; i--) {
      const g = gradsOfStages[i];
      if (g) scope.sinkFor(i)(this.stages[i].role === 'preactivation' ? 'gradPreactivation' : 'gradActivation', g);
      params.forEach((p, k) => {
        if (p.layer !== i) return;
        scope.sinkFor(i)('gradParam', paramGrads[k], p.param);
        if (p.variable.trainable) grads.push({ ...p, grad: paramGrads[k] });
      });
      yield { phase: 'backward', layer: i };
    }

    tf.tidy(() => applyUpdate(this.optimizer, grads, scope));
    yield { phase: 'update', layer: -1 };

    return stepOutcome(loss, acc, prediction, ys, scope);
  }
}
