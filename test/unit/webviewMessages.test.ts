// Messages from the panel, checked by the shared validator table before the host acts on them.
import * as assert from 'node:assert/strict';
import { ProtocolViolation, parseWebviewMessage } from '../../src/shared/messageValidators';

describe('panel → host messages (src/shared/messageValidators)', function () {
  it('passes every well-formed message as it came', function () {
    const ok = [
      { id: 1, body: { type: 'ready' } },
      { id: 2, body: { type: 'requestStep', step: 3 } },
      { id: 3, body: { type: 'requestHistory', layer: 0, role: 'gradParam', param: 'kernel', maxColumns: 240 } },
      { id: 4, body: { type: 'layerSelected', layer: 2 } },
      { id: 5, body: { type: 'control', action: 'stepPhase' } },
      { id: 6, body: { type: 'control', action: 'runTo', toStep: 10 } },
      { id: 7, body: { type: 'control', action: 'stop' } },
      { id: 8, body: { type: 'position', step: 4, phaseIndex: 2 } },
      { id: 9, body: { type: 'requestBaselineStep', step: 0 } },
      { id: 10, body: { type: 'compareTolerance', tolerance: 0 } },
      { id: 11, body: { type: 'compareTolerance', tolerance: 1e-6 } },
      { id: 12, body: { type: 'compareAction', action: 'report' } },
    ];
    for (const m of ok) assert.deepEqual(parseWebviewMessage(m), m);
  });

  it('refuses anything else, naming the field', function () {
    const bad: [unknown, RegExp][] = [
      [null, /object/],
      [{ body: { type: 'ready' } }, /id/],
      [{ id: 1.5, body: { type: 'ready' } }, /id/],
      [{ id: 1, body: { type: 'eval', code: 'process.exit()' } }, /body\.type/],
      [{ id: 1, body: { type: 'requestStep', step: -1 } }, /step/],
      [{ id: 1, body: { type: 'requestStep', step: '3' } }, /step/],
      [{ id: 1, body: { type: 'requestHistory', layer: 0, role: 'secrets', maxColumns: 10 } }, /role/],
      [{ id: 1, body: { type: 'requestHistory', layer: 0, role: 'param', param: 7, maxColumns: 10 } }, /param/],
      [{ id: 1, body: { type: 'control', action: 'kill' } }, /action/],
      [{ id: 1, body: { type: 'control', action: 'runTo', toStep: 'all' } }, /toStep/],
      [{ id: 1, body: { type: 'layerSelected', layer: 'x' } }, /layer/],
      [{ id: 1, body: { type: 'position', step: 1 } }, /phaseIndex/],
      [{ id: 1, body: { type: 'requestBaselineStep', step: 0.5 } }, /step/],
      [{ id: 1, body: { type: 'compareTolerance', tolerance: -1 } }, /tolerance.*finite number ≥ 0/],
      [{ id: 1, body: { type: 'compareTolerance', tolerance: Infinity } }, /tolerance/],
      [{ id: 1, body: { type: 'compareAction', action: 'delete' } }, /action/],
    ];
    for (const [m, field] of bad) assert.throws(() => parseWebviewMessage(m), (e: Error) => e instanceof ProtocolViolation && field.test(e.message), JSON.stringify(m));
  });
});
