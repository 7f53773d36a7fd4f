// Traces a functional model (tf.model) node by node: forward in topological order (the order
// of model.layers), each node reading the tensors its inbound layers produced; the loss; then
// backward in reverse order, a node's output gradient being the sum of what every layer that
// reads it sent back (a residual branch and its shortcut both reach the node they leave).
import { atLayer, layersModelSummary, lossPhase } from './layerPhase';
import * as tf from '@tensorflow/tfjs';
import type { ModelSummary } from '../../shared/traceTypes';
import type { LayerLocations } from '../layerLocations';
import { LocatedError } from '../runError';
import { MERGE_LAYERS, buildTraceableLayer, checkBuilt, unsupportedLayer } from './buildLayers';
import { describeLayer, layerType, paramHandles } from './layerInfo';
import { MergeLayerTracer } from './layers/mergeLayer';
import type { Loss } from './losses';
import type { ModelTracer } from './sequentialTracer';
import { stepOutcome, type StepGenerator, type StepScope } from './stepScope';
import type { BackwardResult, TraceableLayer } from './traceableLayer';
import { applyUpdate, type ParamGradient } from './update';

interface SymbolicRef {
  id: number;
}

interface GraphNode {
  layer: tf.layers.Layer;
  tracer: TraceableLayer | MergeLayerTracer;
  /** Symbolic tensors it reads, and the one it writes. */
  inputs: number[];
  output: number;
}

function inboundTensors(layer: tf.layers.Layer): { inputs: SymbolicRef[]; outputs: SymbolicRef[] } {
  const node = (layer as unknown as { inboundNodes: { inputTensors: SymbolicRef[]; outputTensors: SymbolicRef[] }[] }).inboundNodes[0];
  return { inputs: node.inputTensors, outputs: node.outputTensors };
}

export class GraphTracer implements ModelTracer {
  readonly summary: ModelSummary;
  private readonly nodes: GraphNode[] = [];
  private readonly inputId: number;
  private readonly outputId: number;

  constructor(
    private readonly model: tf.LayersModel,
    private readonly locations: LayerLocations,
    private readonly loss: Loss,
    private readonly optimizer: tf.Optimizer,
  ) {
    checkBuilt(model);
    const refuse = (message: string) => new LocatedError({ kind: 'unsupported-layer', message, location: locations.of(model) });
    if (model.inputs.length !== 1) throw refuse(`A tf.model with ${model.inputs.length} inputs is not traced yet (one input).`);
    if (model.outputs.length !== 1) throw refuse(`A tf.model with ${model.outputs.length} outputs is not traced yet (one output).`);
    this.inputId = (model.inputs[0] as unknown as SymbolicRef).id;
    this.outputId = (model.outputs[0] as unknown as SymbolicRef).id;
    for (const layer of model.layers) {
      if (layer.getClassName() === 'InputLayer') continue;
      const index = this.nodes.length;
      const inbound = (layer as unknown as { inboundNodes: unknown[] }).inboundNodes.length;
      if (inbound !== 1) throw unsupportedLayer(layer, index, locations, `it is used ${inbound} times (shared layers are not traced yet)`);
      const { inputs, outputs } = inboundTensors(layer);
      if (outputs.length !== 1) throw unsupportedLayer(layer, index, locations, 'layers with several outputs are not traced yet');
      let tracer: TraceableLayer | MergeLayerTracer;
      if (inputs.length > 1 || MERGE_LAYERS.has(layerType(layer))) {
        const params = paramHandles(layer);
        tracer = new MergeLayerTracer(layer, describeLayer(layer, index, params, locations.of(layer), false), params);
      } else {
        tracer = buildTraceableLayer(layer, index, locations);
      }
      this.nodes.push({ layer, tracer, inputs: inputs.map((t) => t.id), output: outputs[0].id });
    }
    const infos = this.nodes.map((n) => n.tracer.info);
    this.summary = layersModelSummary(model.name, (model.inputs[0].shape as (number | null)[]) ?? [], infos);
  }

  predict(xs: tf.Tensor): tf.Tensor {
    return this.model.predict(xs) as tf.Tensor;
  }

  private atLayer<T>(index: number, phase: 'forward' | 'backward', run: () => T): T {
    return atLayer(this.nodes[index].tracer.info, phase, this.locations, run);
  }

  *step(xs: tf.Tensor, ys: tf.Tensor, scope: StepScope): StepGenerator {
    const n = this.nodes.length;
    const values = new Map<number, tf.Tensor>([[this.inputId, xs]]);
    scope.sinkFor(0)('input', xs);
    for (let i = 0; i < n; i++) {
      const node = this.nodes[i];
      const inputs = node.inputs.map((id) => values.get(id)!);
      const out = this.atLayer(i, 'forward', () =>
        tf.tidy(() => {
          const sink = scope.sinkFor(i);
          const y = node.tracer instanceof MergeLayerTracer ? node.tracer.forward(inputs, sink, scope.keep) : node.tracer.forward(inputs[0], sink, scope.keep);
          return scope.keep(y);
        }),
      );
      values.set(node.output, out);
      yield { phase: 'forward', layer: i };
    }

    const prediction = values.get(this.outputId)!;
    const { loss, accuracy, grad: lossGrad } = lossPhase(this.loss, ys, prediction, scope);
    yield { phase: 'loss', layer: -1 };

    // ∂L/∂(symbolic tensor), summed over every reader as the backward pass reaches them.
    const grads = new Map<number, tf.Tensor>([[this.outputId, lossGrad]]);
    const paramGrads: ParamGradient[] = [];
    for (let i = n - 1; i >= 0; i--) {
      const node = this.nodes[i];
      const dY = grads.get(node.output) ?? scope.keep(tf.zerosLike(values.get(node.output)!));
      const sink = scope.sinkFor(i);
      let result!: { dInputs: (tf.Tensor | undefined)[]; grads: Map<string, tf.Tensor> };
      this.atLayer(i, 'backward', () =>
        tf.tidy(() => {
          if (node.tracer instanceof MergeLayerTracer) {
            result = node.tracer.backward(dY, sink);
          } else {
            const needInputGrad = node.inputs[0] !== this.inputId;
            const r: BackwardResult = node.tracer.backward(dY, needInputGrad, sink);
            result = { dInputs: [r.dInput], grads: r.grads };
          }
          for (const [name, g] of result.grads) {
            scope.keep(g);
            sink('gradParam', g, name);
          }
          node.inputs.forEach((id, k) => {
            const d = result.dInputs[k];
            if (!d || id === this.inputId) return;
            const before = grads.get(id);
            grads.set(id, scope.keep(before ? tf.add(before, d) : d));
          });
        }),
      );
      for (const p of node.tracer.params) {
        const g = result.grads.get(p.name);
        if (p.trainable && g) paramGrads.push({ layer: i, param: p.name, variable: p.variable, grad: g });
      }
      yield { phase: 'backward', layer: i };
    }

    tf.tidy(() => applyUpdate(this.optimizer, paramGrads, scope));
    yield { phase: 'update', layer: -1 };

    return stepOutcome(loss, accuracy, prediction, ys, scope);
  }
}
