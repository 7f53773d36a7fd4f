import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { lossAndGradient, resolveLoss } from '../../src/runner/tracer/losses';
import { literalSeed } from '../../src/runner/userModule';

describe('losses', () => {
  it('perceptron: a point on the boundary is a mistake, so zero weights still learn', () => {
    const y = tf.tensor2d([[1], [-1], [1], [-1]]);
    const pred = tf.tensor2d([[0], [0], [2], [-3]]); // two on the boundary, two right
    const { value, grad } = lossAndGradient(resolveLoss('perceptron'), y, pred);
    assert.equal(value.dataSync()[0], 0);
    // The rule's step: −y/n for mistakes (y·ŷ ≤ 0), nothing for the rest.
    assert.deepEqual(Array.from(grad.dataSync(), (g) => g + 0), [-0.25, 0.25, 0, 0]); // + 0: −0 → 0
  });

  it('perceptron: misclassified points give loss −y·ŷ', () => {
    const { value } = lossAndGradient(resolveLoss('perceptron'), tf.tensor2d([[1], [-1]]), tf.tensor2d([[-2], [1]]));
    assert.equal(value.dataSync()[0], 1.5);
  });

  it('an unknown loss name says which ones exist', () => {
    assert.throws(() => resolveLoss('crossEntropyish' as never), /Unknown loss 'crossEntropyish'. Known: categoricalCrossentropy/);
  });
});

describe('seed from the file', () => {
  it('reads a literal seed before the file runs', () => {
    assert.equal(literalSeed('defineTraining({ model, steps: 20, seed: 7 })'), 7);
    assert.equal(literalSeed('const s = seedFor(x);'), undefined);
  });
});
