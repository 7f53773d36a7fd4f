// Where a functional model's nodes go in the diagram: columns by longest-path rank from the
// inputs (an input is rank 0, a node one more than the furthest node it reads), the loss in a
// column of its own after the last; within a column, nodes in trace order. Small graphs need
// nothing more (no crossing minimisation): a residual block or two branches read plainly.
import type { ModelGraph } from '../src/shared/traceTypes';

/** A box in the diagram: a model input (by its index in graph.inputs) or a node (by its index in model.layers). */
export type GraphItem = { kind: 'input'; index: number } | { kind: 'node'; index: number };

export interface GraphColumns {
  /** Column by column, left to right; the loss column is not included. */
  columns: GraphItem[][];
  /** Each node's column. */
  nodeRank: number[];
  /** The tallest column's number of boxes. */
  tallest: number;
}

export function graphColumns(graph: ModelGraph, nodeCount: number): GraphColumns {
  const nodeRank = new Array<number>(nodeCount).fill(1);
  const readsFrom: { from: number; fromInput: boolean }[][] = Array.from({ length: nodeCount }, () => []);
  for (const e of graph.edges) readsFrom[e.to].push({ from: e.from, fromInput: e.fromInput === true });
  // Nodes come in topological (trace) order, so one pass sees every producer before its readers.
  for (let i = 0; i < nodeCount; i++) {
    nodeRank[i] = 1 + Math.max(0, ...readsFrom[i].map((r) => (r.fromInput ? 0 : r.from < i ? nodeRank[r.from] : 0)));
  }
  const width = Math.max(1, ...nodeRank) + 1;
  const columns: GraphItem[][] = Array.from({ length: width }, () => []);
  graph.inputs.forEach((_, index) => columns[0].push({ kind: 'input', index }));
  nodeRank.forEach((rank, index) => columns[rank].push({ kind: 'node', index }));
  return { columns, nodeRank, tallest: Math.max(1, ...columns.map((c) => c.length)) };
}
