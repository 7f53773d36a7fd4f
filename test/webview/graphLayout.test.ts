// Where the panel puts a functional model's boxes, in plain Node: columns by longest-path rank.
import * as assert from 'node:assert/strict';
import type { ModelGraph } from '../../src/shared/traceTypes';
import { graphColumns } from '../../webview/graphLayout';

describe('graph layout', function () {
  it('ranks a node one past the furthest node it reads: a skip connection lands after the block it skips', function () {
    // x → a → b; add(a, b) → out: add reads a (rank 1) and b (rank 2), so it is rank 3.
    const graph: ModelGraph = {
      inputs: [{ name: 'x', shape: [null, 4] }],
      edges: [
        { from: 0, fromInput: true, to: 0, slot: 0 },
        { from: 0, to: 1, slot: 0 },
        { from: 0, to: 2, slot: 0 },
        { from: 1, to: 2, slot: 1 },
        { from: 2, to: 3, slot: 0 },
      ],
      outputs: [{ node: 3, name: 'out' }],
    };
    const { nodeRank, columns, tallest } = graphColumns(graph, 4);
    assert.deepEqual(nodeRank, [1, 2, 3, 4]);
    assert.deepEqual(columns.map((c) => c.map((i) => `${i.kind}${i.index}`)), [['input0'], ['node0'], ['node1'], ['node2'], ['node3']]);
    assert.equal(tallest, 1);
  });

  it('puts parallel branches and several inputs in one column, in trace order', function () {
    const graph: ModelGraph = {
      inputs: [{ name: 'left', shape: [null, 4] }, { name: 'right', shape: [null, 3] }],
      edges: [
        { from: 0, fromInput: true, to: 0, slot: 0 },
        { from: 1, fromInput: true, to: 1, slot: 0 },
        { from: 0, to: 2, slot: 0 },
        { from: 1, to: 2, slot: 1 },
      ],
      outputs: [{ node: 2, name: 'joined' }],
    };
    const { columns, tallest } = graphColumns(graph, 3);
    assert.deepEqual(columns.map((c) => c.map((i) => `${i.kind}${i.index}`)), [['input0', 'input1'], ['node0', 'node1'], ['node2']]);
    assert.equal(tallest, 2);
  });
});
