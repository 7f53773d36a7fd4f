// The panel's DOM-free pieces, in plain Node: the record cache, number words, phase sentences.
import * as assert from 'node:assert/strict';
import type { LayerInfo, ModelGraph, StepRecord } from '../../src/shared/traceTypes';
import { phaseStops } from '../../src/shared/phases';
import { formatInt, formatNum, formatPercent, formatShape, roleSymbol, unitsOf } from '../../src/shared/format';
import { narrate } from '../../webview/narration';
import { sampleRow, selectedSampleIndex } from '../../webview/records';
import { StepCache } from '../../webview/stepCache';

const record = (step: number): StepRecord => ({ step, loss: 1, stepMs: 1, keyframe: false, summaries: [], tensors: [] });

describe('panel logic', function () {
  it('keeps only the most recently used step records', function () {
    const cache = new StepCache(3);
    for (let s = 0; s < 5; s++) cache.put(record(s));
    assert.equal(cache.size, 3);
    assert.equal(cache.get(0), undefined);
    assert.ok(cache.get(2));
    cache.put(record(5)); // evicts 3: 2 was used more recently
    assert.equal(cache.get(3), undefined);
    assert.ok(cache.get(2) && cache.get(4) && cache.get(5));
    for (let s = 0; s < 100_000; s++) cache.put(record(s));
    assert.equal(cache.size, 3);
  });

  it('writes numbers, shapes and roles as words', function () {
    assert.equal(formatInt(235146), '235,146');
    assert.equal(formatNum(0.123456), '0.1235');
    // One minus sign throughout, the exponent's too (a negative number once read "−1.23e-5").
    assert.equal(formatNum(-0.0000123), '−1.23e−5');
    assert.equal(formatNum(0.0000123), '1.23e−5');
    assert.equal(formatNum(NaN), 'NaN');
    assert.equal(formatNum(-Infinity), '−∞');
    assert.equal(formatPercent(0.5), '50.0%');
    assert.equal(formatShape([null, 28, 28, 1]), '[batch, 28, 28, 1]');
    assert.equal(unitsOf([null, 28, 28, 1]), 784);
    assert.equal(roleSymbol('gradParam', 'kernel'), '∂L/∂W');
    assert.equal(roleSymbol('delta', 'bias'), 'Δb');
    assert.equal(roleSymbol('gradActivation'), '∂L/∂a');
  });

  it('picks the selected sample’s row from per-sample and whole-batch tensors', function () {
    const values = Float32Array.from({ length: 12 }, (_, i) => i);
    assert.deepEqual([...sampleRow({ layer: 0, role: 'input', scope: 'batch', shape: [3, 4], values }, 2)], [8, 9, 10, 11]);
    assert.deepEqual([...sampleRow({ layer: 0, role: 'input', scope: 'sample', sampleIndices: [5, 7, 9], shape: [3, 4], values }, 7)], [4, 5, 6, 7]);
    assert.equal(selectedSampleIndex({ ...record(0), samples: [{ index: 7, target: [1], prediction: [1] }] }), 7);
  });

  it('tells every phase in words', function () {
    const layers = [784, 256, 10].slice(1).map((units, index) => ({
      index, name: `dense_${index}`, type: 'Dense', activation: 'relu', inputShape: [null, index ? 256 : 784], outputShape: [null, units],
      params: [{ name: 'kernel', shape: [1, 1], count: 1, trainable: true }], paramCount: 1, paramFormula: '', nativeBackward: true,
    }));
    const words = phaseStops(layers.length).map((s) => narrate(s, layers, { ...record(0), loss: 0.5, accuracy: 0.25 }, 64));
    assert.match(words[0], /^Forward: for each of the 64 examples of the batch, dense_0 multiplies its 784 inputs by its weights, adds its biases, then applies relu\.$/);
    assert.match(words[2], /^Loss: .*0\.5 and 16 of its 64 examples are right \(25\.0%\)/);
    // An epoch's last batch, smaller than the run's: its own size counts.
    const partial = { ...record(0), loss: 0.5, accuracy: 0.25, summaries: [{ layer: 0, role: 'input' as const, shape: [8, 784] }] };
    assert.match(narrate(phaseStops(layers.length)[0], layers, partial, 64), /^Forward: for each of the 8 examples of the batch/);
    assert.match(narrate(phaseStops(layers.length)[2], layers, partial, 64), /0\.5 and 2 of its 8 examples are right \(25\.0%\)\./);
    // No whole count: the fraction alone.
    assert.match(narrate(phaseStops(layers.length)[2], layers, { ...record(0), loss: 0.5, accuracy: 0.3 }, 64), /0\.5 and 30\.0% of its examples are right\./);
    assert.match(words[3], /^Backward: .*dense_1.*passed back/);
    assert.doesNotMatch(words[4], /passed back/, 'the first layer passes nothing back');
    assert.match(words[5], /^Update: /);
  });

  it('tells a shared layer’s second call, and three readers, by their graph neighbours', function () {
    // a, b: inputs; dense_A called on both (node 1 shares node 0's weights); add reads both calls,
    // and node 0's output is read by add and by dense_C and is also an output.
    const node = (index: number, name: string, type: string, shares?: number): LayerInfo => ({
      index, name, type, inputShape: [null, 2], outputShape: [null, 2], paramCount: shares === undefined && type === 'Dense' ? 6 : 0, paramFormula: '', nativeBackward: true,
      params: shares === undefined && type === 'Dense' ? [{ name: 'kernel', shape: [2, 2], count: 4, trainable: true }] : [], ...(shares !== undefined ? { sharesParamsWith: shares } : {}),
    });
    const layers = [node(0, 'dense_A', 'Dense'), node(1, 'dense_A_2', 'Dense', 0), node(2, 'add_Add1', 'Add'), node(3, 'dense_C', 'Dense')];
    const graph: ModelGraph = {
      inputs: [{ name: 'a', shape: [null, 2] }, { name: 'b', shape: [null, 2] }],
      edges: [
        { from: 0, fromInput: true, to: 0, slot: 0 },
        { from: 1, fromInput: true, to: 1, slot: 0 },
        { from: 1, to: 2, slot: 1 },
        { from: 0, to: 2, slot: 0 },
        { from: 0, to: 3, slot: 0 },
      ],
      outputs: [{ node: 0, name: 'dense_A' }, { node: 2, name: 'add_Add1' }, { node: 3, name: 'dense_C' }],
    };
    const stops = phaseStops(layers.length);
    const say = (phase: string, layer: number) => narrate(stops.find((s) => s.phase === phase && s.layer === layer)!, layers, record(0), 8, graph);
    assert.match(say('forward', 2), /, add_Add1 reads dense_A and dense_A_2 and computes its 2 outputs\.$/, 'in slot order');
    assert.equal(say('backward', 1), 'Backward: dense_A_2 uses the weights of dense_A: their ∂L/∂W, recorded at dense_A, sums the parts from every call.');
    assert.equal(say('backward', 0), 'Backward: how much would the loss change if each weight of dense_A moved a little? That is ∂L/∂W. Its ∂L/∂a is the sum of the parts from add_Add1, dense_C and the loss.');
    assert.equal(say('backward', 2), 'Backward: add_Add1 has no weights of its own: it carries the gradient through. The gradient is then passed back to dense_A and dense_A_2.');
    assert.match(say('loss', -1), /^Loss: each output's predictions \(dense_A, add_Add1 and dense_C\) are compared with its targets; the batch's loss, the sum of each output's loss, is 1\./);
  });
});
