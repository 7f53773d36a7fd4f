// Traces a functional model (tf.model) node by node: forward in topological order, each node
// reading the tensors its inbound nodes produced (a model may have several inputs); the loss,
// one per output, summed as tfjs sums them; then backward in reverse order, a node's output
// gradient being the sum of what every reader sent back (each reader's part is recorded too).
// A layer called on several tensors (a shared layer) is one node per call; its parameters'
// gradient is the sum over its calls, recorded and applied at its first call's node.
import { atLayer, layersModelSummary } from './layerPhase';
import * as tf from '@tensorflow/tfjs';
import type { Tensors } from '../../api/index';
import type { GraphEdge, LayerInfo, ModelGraph, ModelSummary } from '../../shared/traceTypes';
import type { LayerLocations } from '../layerLocations';
import { LocatedError } from '../runError';
import { exampleCount, tensorList } from '../exampleTensors';
import { MERGE_LAYERS, buildTraceableLayer, checkBuilt, unsupportedLayer } from './buildLayers';
import { describeLayer, formatCount, layerType, paramHandles } from './layerInfo';
import { MergeLayerTracer } from './layers/mergeLayer';
import { batchAccuracy, heldOutBatch, lossAndGradient, type Loss } from './losses';
import type { HeldOutMetrics, ModelTracer } from './sequentialTracer';
import { stepOutcome, type StepGenerator, type StepScope } from './stepScope';
import type { TraceableLayer } from './traceableLayer';
import { applyUpdate, type ParamGradient } from './update';

interface SymbolicRef {
  id: number;
  shape: (number | null)[];
}

interface InboundNode {
  inputTensors: SymbolicRef[];
  outputTensors: SymbolicRef[];
}

/** One call of a layer in the graph. */
interface GraphNode {
  layer: tf.layers.Layer;
  info: LayerInfo;
  /** Its own tracer even for a shared layer: each call keeps its own tensors for its backward pass. */
  tracer: TraceableLayer | MergeLayerTracer;
  /** Symbolic tensors it reads, and the one it writes. */
  inputs: number[];
  output: number;
  /** The node that owns its parameters: itself, or a shared layer's first call. */
  owner: number;
}

/** Who reads a symbolic tensor: nodes (by index) and, for a model output, the loss. */
type Reader = number | 'loss';

const nodeKey = (layer: tf.layers.Layer, call: number): string => (tf.layers.Layer as unknown as { nodeKey(l: tf.layers.Layer, i: number): string }).nodeKey(layer, call);

function inboundNodes(layer: tf.layers.Layer): InboundNode[] {
  return (layer as unknown as { inboundNodes: InboundNode[] }).inboundNodes;
}

interface Call {
  layer: tf.layers.Layer;
  call: number;
  node: InboundNode;
}

/** The model's calls in an order where every call comes after those it reads from (stable: the model's layer order first). */
function topologicalCalls(model: tf.LayersModel, inputIds: number[]): Call[] {
  const inModel = (model as unknown as { containerNodes: Set<string> }).containerNodes;
  const pending: Call[] = [];
  for (const layer of model.layers) {
    if (layer.getClassName() === 'InputLayer') continue;
    inboundNodes(layer).forEach((node, call) => {
      if (inModel.has(nodeKey(layer, call))) pending.push({ layer, call, node });
    });
  }
  const ready = new Set(inputIds);
  const order: Call[] = [];
  while (pending.length > 0) {
    const next = pending.findIndex((c) => c.node.inputTensors.every((t) => ready.has(t.id)));
    // A container's nodes always form a DAG from its inputs; this guards against a tfjs change.
    if (next < 0) throw new Error(`the graph has nodes no input reaches (${pending.map((c) => c.layer.name).join(', ')})`);
    const [c] = pending.splice(next, 1);
    for (const t of c.node.outputTensors) ready.add(t.id);
    order.push(c);
  }
  return order;
}

export class GraphTracer implements ModelTracer {
  readonly summary: ModelSummary;
  private readonly nodes: GraphNode[] = [];
  private readonly inputIds: number[];
  private readonly inputNames: string[];
  private readonly outputIds: number[];
  private readonly losses: Loss[];
  /** Readers of every symbolic tensor that more than one reads (their parts of its gradient are recorded). */
  private readonly sharedReaders = new Map<number, Reader[]>();

  constructor(
    private readonly model: tf.LayersModel,
    private readonly locations: LayerLocations,
    /** One loss for every output, or one per output in the model's output order. */
    loss: Loss | Loss[],
    private readonly optimizer: tf.Optimizer,
  ) {
    checkBuilt(model);
    this.inputIds = model.inputs.map((t) => (t as unknown as SymbolicRef).id);
    this.inputNames = model.inputNames;
    this.outputIds = model.outputs.map((t) => (t as unknown as SymbolicRef).id);
    this.losses = Array.isArray(loss) ? loss : model.outputs.map(() => loss);
    if (this.losses.length !== this.outputIds.length) {
      throw new LocatedError({
        kind: 'contract',
        message: `The model has ${this.outputIds.length} outputs (${model.outputNames.join(', ')}) but ${this.losses.length} losses were given.`,
        location: locations.of(model),
      });
    }

    const calls = topologicalCalls(model, this.inputIds);
    const callsOf = new Map<tf.layers.Layer, number>();
    for (const c of calls) callsOf.set(c.layer, (callsOf.get(c.layer) ?? 0) + 1);
    const ownerOf = new Map<tf.layers.Layer, number>();
    const seen = new Map<tf.layers.Layer, number>();
    for (const { layer, node } of calls) {
      const index = this.nodes.length;
      if (node.outputTensors.length !== 1) throw unsupportedLayer(layer, index, locations, 'layers with several outputs are not traced yet');
      const shared = (callsOf.get(layer) ?? 1) > 1;
      const call = seen.get(layer) ?? 0;
      seen.set(layer, call + 1);
      const owner = ownerOf.get(layer) ?? index;
      ownerOf.set(layer, owner);
      const inputs = node.inputTensors;
      const shapes = { inputShape: inputs[0]?.shape ?? [], outputShape: node.outputTensors[0].shape };
      const params = paramHandles(layer);
      let tracer: TraceableLayer | MergeLayerTracer;
      if (inputs.length > 1 || MERGE_LAYERS.has(layerType(layer))) {
        tracer = new MergeLayerTracer(layer, { ...describeLayer(layer, index, params, locations.of(layer), false), ...shapes }, params);
      } else {
        tracer = buildTraceableLayer(layer, index, locations, shapes);
      }
      let info: LayerInfo = shared ? { ...tracer.info, name: `${layer.name}@${call}`, call } : tracer.info;
      if (owner !== index) {
        // The parameters are shown, counted and updated once, at the layer's first call.
        const ownerInfo = this.nodes[owner].info;
        info = { ...info, params: [], paramCount: 0, paramFormula: `the ${formatCount(ownerInfo.paramCount)} parameters of ${ownerInfo.name}`, sharesParamsWith: owner };
      }
      this.nodes.push({ layer, info, tracer, inputs: inputs.map((t) => t.id), output: node.outputTensors[0].id, owner });
    }

    const readers = new Map<number, Reader[]>();
    const addReader = (id: number, r: Reader) => readers.set(id, [...(readers.get(id) ?? []), r]);
    this.nodes.forEach((n, i) => new Set(n.inputs).forEach((id) => addReader(id, i)));
    this.outputIds.forEach((id) => addReader(id, 'loss'));
    for (const [id, r] of readers) if (new Set(r).size > 1) this.sharedReaders.set(id, [...new Set(r)]);

    const infos = this.nodes.map((n) => n.info);
    const inputShapes = model.inputs.map((t) => (t.shape as (number | null)[]) ?? []);
    this.summary = { ...layersModelSummary(model.name, inputShapes[0], infos), graph: this.graph(inputShapes) };
  }

  private graph(inputShapes: (number | null)[][]): ModelGraph {
    const producer = new Map<number, { from: number; fromInput?: boolean }>();
    this.inputIds.forEach((id, k) => producer.set(id, { from: k, fromInput: true }));
    this.nodes.forEach((n, i) => producer.set(n.output, { from: i }));
    const edges: GraphEdge[] = this.nodes.flatMap((n, to) => n.inputs.map((id, slot) => ({ ...producer.get(id)!, to, slot })));
    return {
      inputs: this.inputNames.map((name, k) => ({ name, shape: inputShapes[k] })),
      edges,
      outputs: this.outputIds.map((id, k) => ({ node: producer.get(id)!.from, name: this.model.outputNames[k] })),
    };
  }

  evaluate(xs: Tensors, ys: Tensors): HeldOutMetrics {
    return tf.tidy(() => {
      // The whole chunk in one batch, as in sequentialTracer.ts.
      const predictions = tensorList(this.model.predict(xs, { batchSize: exampleCount(xs) }) as Tensors);
      const targets = this.targetsOf(ys);
      const parts = predictions.map((p, k) => heldOutBatch(this.losses[k], targets[k], p));
      const held = { loss: parts.reduce((s, p) => s + p.loss, 0), accuracy: parts[0].accuracy };
      return parts.length > 1 ? { ...held, outputLosses: parts.map((p) => p.loss), outputAccuracies: parts.map((p) => p.accuracy) } : held;
    });
  }

  private listOf(t: Tensors, ids: number[], what: string): tf.Tensor[] {
    const list = tensorList(t);
    if (list.length !== ids.length) {
      throw new LocatedError({ kind: 'contract', message: `The model has ${ids.length} ${what}${ids.length === 1 ? '' : 's'}, but the data gives ${list.length} ${what} tensor${list.length === 1 ? '' : 's'}.`, location: this.locations.of(this.model) });
    }
    return list;
  }

  private targetsOf(ys: Tensors): tf.Tensor[] {
    return this.listOf(ys, this.outputIds, 'output');
  }

  private atNode<T>(index: number, phase: 'forward' | 'backward', run: () => T): T {
    return atLayer(this.nodes[index].info, phase, this.locations, run);
  }

  private readerName(r: Reader): string {
    return r === 'loss' ? 'loss' : this.nodes[r].info.name;
  }

  *step(inputs: Tensors, targets: Tensors, scope: StepScope): StepGenerator {
    const n = this.nodes.length;
    const xs = this.listOf(inputs, this.inputIds, 'input');
    const ys = this.targetsOf(targets);
    const values = new Map<number, tf.Tensor>(this.inputIds.map((id, k) => [id, xs[k]]));
    xs.forEach((x, k) => scope.sinkFor(0)('input', x, xs.length > 1 ? this.inputNames[k] : undefined));
    for (let i = 0; i < n; i++) {
      const node = this.nodes[i];
      const ins = node.inputs.map((id) => values.get(id)!);
      const out = this.atNode(i, 'forward', () =>
        tf.tidy(() => {
          const sink = scope.sinkFor(i);
          const y = node.tracer instanceof MergeLayerTracer ? node.tracer.forward(ins, sink, scope.keep) : node.tracer.forward(ins[0], sink, scope.keep);
          return scope.keep(y);
        }),
      );
      values.set(node.output, out);
      yield { phase: 'forward', layer: i };
    }

    const predictions = this.outputIds.map((id) => values.get(id)!);
    const lossParts = tf.tidy(() =>
      predictions.map((p, k) => {
        const { value, grad } = lossAndGradient(this.losses[k], ys[k], p);
        const acc = batchAccuracy(this.losses[k].name, ys[k], p);
        return { value: scope.keep(value), grad: scope.keep(grad), acc: acc && scope.keep(acc) };
      }),
    );
    const outputLosses = lossParts.map((p) => p.value.dataSync()[0]);
    const outputAccuracies = lossParts.map((p) => p.acc?.dataSync()[0]);
    const loss = outputLosses.reduce((s, v) => s + v, 0);
    scope.lossPhase = { loss, accuracy: outputAccuracies[0], prediction: predictions[0] };
    yield { phase: 'loss', layer: -1 };

    // What each reader sent back to each symbolic tensor, summed when a node's backward starts.
    const parts = new Map<number, Map<Reader, tf.Tensor>>();
    const send = (id: number, from: Reader, d: tf.Tensor) => {
      const byReader = parts.get(id) ?? new Map<Reader, tf.Tensor>();
      const before = byReader.get(from);
      byReader.set(from, scope.keep(before ? tf.add(before, d) : d));
      parts.set(id, byReader);
    };
    this.outputIds.forEach((id, k) => send(id, 'loss', lossParts[k].grad));
    // ∂L/∂W of each parameter owner, summed over a shared layer's calls.
    const ownerGrads = new Map<number, Map<string, tf.Tensor>>();
    const paramGrads: ParamGradient[] = [];
    for (let i = n - 1; i >= 0; i--) {
      const node = this.nodes[i];
      const sink = scope.sinkFor(i);
      this.atNode(i, 'backward', () =>
        tf.tidy(() => {
          const received = parts.get(node.output);
          const readers = this.sharedReaders.get(node.output);
          if (readers && received) {
            for (const r of readers) {
              const part = received.get(r);
              if (part) sink('gradContribution', part, this.readerName(r));
            }
          }
          const list = received ? [...received.values()] : [];
          const dY = scope.keep(list.length === 0 ? tf.zerosLike(values.get(node.output)!) : list.length === 1 ? list[0] : tf.addN(list));
          let dInputs: (tf.Tensor | undefined)[];
          let grads: Map<string, tf.Tensor>;
          if (node.tracer instanceof MergeLayerTracer) {
            ({ dInputs, grads } = node.tracer.backward(dY, sink));
          } else {
            const needInputGrad = !this.inputIds.includes(node.inputs[0]);
            const r = node.tracer.backward(dY, needInputGrad, sink);
            dInputs = [r.dInput];
            grads = r.grads;
          }
          const sums = ownerGrads.get(node.owner) ?? new Map<string, tf.Tensor>();
          for (const [name, g] of grads) {
            const before = sums.get(name);
            sums.set(name, scope.keep(before ? tf.add(before, g) : g));
          }
          ownerGrads.set(node.owner, sums);
          if (node.owner === i) for (const [name, g] of sums) sink('gradParam', g, name);
          node.inputs.forEach((id, k) => {
            const d = dInputs[k];
            if (d && !this.inputIds.includes(id)) send(id, i, d);
          });
        }),
      );
      // A shared layer's first call comes last going backward: its sum is complete here.
      if (node.owner === i) {
        const sums = ownerGrads.get(i)!;
        for (const p of node.tracer.params) {
          const g = sums.get(p.name);
          if (p.trainable && g) paramGrads.push({ layer: i, param: p.name, variable: p.variable, grad: g });
        }
      }
      yield { phase: 'backward', layer: i };
    }

    tf.tidy(() => applyUpdate(this.optimizer, paramGrads, scope));
    yield { phase: 'update', layer: -1 };

    const outcome = stepOutcome(loss, outputAccuracies[0], predictions[0], ys[0], scope);
    return predictions.length > 1 ? { ...outcome, outputLosses, outputAccuracies } : outcome;
  }
}
