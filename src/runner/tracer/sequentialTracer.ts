// Traces a tf.sequential model one phase at a time: forward layer by layer, the loss, backward
// from the last layer to the first with the tracer's own backward passes, then the update.
import { atLayer, layersModelSummary, lossPhase } from './layerPhase';
import * as tf from '@tensorflow/tfjs';
import type { ModelSummary } from '../../shared/traceTypes';
import type { LayerLocations } from '../layerLocations';
import { buildTraceableLayers } from './buildLayers';
import { heldOutBatch, type Loss } from './losses';
import type { Tensors } from '../../api/index';
import { exampleCount, oneTensor } from '../exampleTensors';
import { stepOutcome, type StepGenerator, type StepScope } from './stepScope';
import type { BackwardResult, TraceableLayer } from './traceableLayer';
import { applyUpdate, type ParamGradient } from './update';

/** A held-out batch's metrics; a model with several outputs adds each one's loss and accuracy. */
export interface HeldOutMetrics {
  loss: number;
  accuracy?: number;
  outputLosses?: number[];
  outputAccuracies?: (number | undefined)[];
}

export interface ModelTracer {
  readonly summary: ModelSummary;
  /** One training step on a batch; yields after each phase. What it captures goes to `scope`. */
  step(xs: Tensors, ys: Tensors, scope: StepScope): StepGenerator;
  /** A held-out batch's loss and accuracy, in inference mode (dropout off, running statistics). */
  evaluate(xs: Tensors, ys: Tensors): HeldOutMetrics;
}

export class SequentialTracer implements ModelTracer {
  readonly summary: ModelSummary;
  private readonly layers: TraceableLayer[];

  constructor(
    private readonly model: tf.LayersModel,
    private readonly locations: LayerLocations,
    private readonly loss: Loss,
    private readonly optimizer: tf.Optimizer,
  ) {
    this.layers = buildTraceableLayers(model, locations);
    const infos = this.layers.map((l) => l.info);
    this.summary = layersModelSummary(model.name, infos[0]?.inputShape ?? [], infos);
  }

  evaluate(xs: Tensors, ys: Tensors): { loss: number; accuracy?: number } {
    const x = oneTensor(xs, 'inputs');
    // The whole chunk in one batch: predict's default of 32 made step 0's evaluation of 500 images 2–3× slower.
    return tf.tidy(() => heldOutBatch(this.loss, oneTensor(ys, 'targets'), this.model.predict(x, { batchSize: exampleCount(x) }) as tf.Tensor));
  }

  private atLayer<T>(index: number, phase: 'forward' | 'backward', run: () => T): T {
    return atLayer(this.layers[index].info, phase, this.locations, run);
  }

  *step(inputs: Tensors, targets: Tensors, scope: StepScope): StepGenerator {
    const xs = oneTensor(inputs, 'inputs');
    const ys = oneTensor(targets, 'targets');
    const n = this.layers.length;
    scope.sinkFor(0)('input', xs);
    let out: tf.Tensor = xs;
    for (let i = 0; i < n; i++) {
      const input = out;
      out = this.atLayer(i, 'forward', () => tf.tidy(() => scope.keep(this.layers[i].forward(input, scope.sinkFor(i), scope.keep))));
      yield { phase: 'forward', layer: i };
    }

    const prediction = out;
    const { loss, accuracy, grad: lossGrad } = lossPhase(this.loss, ys, prediction, scope);
    yield { phase: 'loss', layer: -1 };

    const grads: ParamGradient[] = [];
    let dOut: tf.Tensor = lossGrad;
    for (let i = n - 1; i >= 0; i--) {
      const layer = this.layers[i];
      const dY = dOut;
      const sink = scope.sinkFor(i);
      let result!: BackwardResult;
      this.atLayer(i, 'backward', () =>
        tf.tidy(() => {
          result = layer.backward(dY, i > 0, sink);
          for (const [name, g] of result.grads) {
            scope.keep(g);
            sink('gradParam', g, name);
          }
          if (result.dInput) scope.keep(result.dInput);
        }),
      );
      for (const p of layer.params) {
        const g = result.grads.get(p.name);
        if (p.trainable && g) grads.push({ layer: i, param: p.name, variable: p.variable, grad: g });
      }
      if (result.dInput) dOut = result.dInput;
      yield { phase: 'backward', layer: i };
    }

    tf.tidy(() => applyUpdate(this.optimizer, grads, scope));
    yield { phase: 'update', layer: -1 };

    return stepOutcome(loss, accuracy, prediction, ys, scope);
  }
}
