// The statistic columns (src/shared/format.ts) are the one list the panel, the tooltip, the hover,
// the inline values and the command line read: each shows every column a tensor has, in order.
import * as assert from 'node:assert/strict';
import { activationRows, inlineText } from '../../src/extension/layerFormat';
import { STAT_COLUMNS, briefStats, statColumnsOf, statsLine } from '../../src/shared/format';
import type { LayerInfo, StepRecord, TensorStats } from '../../src/shared/traceTypes';

function stats(extra: Partial<TensorStats> = {}): TensorStats {
  return { count: 8, mean: 0.123456, std: 0.456789, min: -1.5, max: 2.25, l2: 3.14159, zeroFraction: 0.25, nanCount: 0, infCount: 0, histogram: new Uint32Array(64), ...extra };
}

const layer: LayerInfo = { index: 0, name: 'dense_1', type: 'Dense', outputShape: [null, 4], inputShape: [null, 2], params: [], paramCount: 12, paramFormula: '2·4 + 4', nativeBackward: true };

function recordWith(activation: TensorStats): StepRecord {
  return { step: 1, loss: 0.5, stepMs: 1, keyframe: false, summaries: [{ layer: 0, role: 'activation', shape: [2, 4], stats: activation }], tensors: [] };
}

describe('statistic columns', () => {
  it('the hover has a row for every column an activation has, in order, at the editor precision', () => {
    const s = stats({ deadUnitFraction: 0.5 });
    assert.deepEqual(
      activationRows(s).map(([k]) => k),
      STAT_COLUMNS.map((c) => `activation ${c.label}`),
    );
    assert.deepEqual(activationRows(s).slice(0, 2), [['activation mean', '0.123'], ['activation std', '0.457']]);
    assert.deepEqual(activationRows(s).at(-1), ['activation dead', '50%']);
  });

  it('a tensor without dead units (not an activation) has no dead-units column anywhere', () => {
    const s = stats();
    assert.ok(!statColumnsOf(s).some((c) => c.label === 'dead'));
    assert.ok(!activationRows(s).some(([k]) => k === 'activation dead'));
    assert.doesNotMatch(statsLine(s), /dead/);
    assert.match(statsLine(stats({ deadUnitFraction: 0.125 })), /dead 12\.5%$/);
  });

  it('the command line and tooltip line name every column with its value, in order', () => {
    const line = statsLine(stats({ nanCount: 2, infCount: 1 }), '  ');
    assert.equal(line, 'mean 0.1235  std 0.4568  min −1.5  max 2.25  ‖·‖ 3.142  zeros 25.0%  NaN/Inf 2/1');
  });

  it('the inline values read the brief forms: mean ± std, dead units, and NaN/Inf only when there are any', () => {
    assert.deepEqual(briefStats(stats({ deadUnitFraction: 0.25 })), ['0.123 ± 0.457', '25% dead']);
    assert.deepEqual(briefStats(stats({ nanCount: 3 })), ['0.123 ± 0.457', '3 NaN, 0 Inf']);
    assert.equal(inlineText(layer, recordWith(stats({ deadUnitFraction: 0.25 })), undefined), '0.123 ± 0.457 · 25% dead');
    // Before the step has computed the layer: its shape.
    assert.equal(inlineText(layer, undefined, undefined), '[batch, 4]');
  });
});
