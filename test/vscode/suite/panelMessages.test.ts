// What the panel host accepts from the webview: only well-formed FromWebview messages (the panel
// is ours, but its input reaches the host's file reads and the runner's controls).
import * as assert from 'node:assert/strict';
import { asEnvelope } from '../../../src/extension/panelHost';

suite('panel messages', () => {
  test('well-formed messages pass', () => {
    const ok = [
      { id: 1, body: { type: 'ready' } },
      { id: 2, body: { type: 'requestStep', step: 3 } },
      { id: 3, body: { type: 'requestHistory', layer: 0, role: 'gradParam', param: 'kernel', maxColumns: 240 } },
      { id: 4, body: { type: 'layerSelected', layer: 2 } },
      { id: 5, body: { type: 'control', action: 'stepPhase' } },
      { id: 6, body: { type: 'control', action: 'runTo', toStep: 10 } },
      { id: 7, body: { type: 'control', action: 'stop' } },
    ];
    for (const m of ok) assert.deepEqual(asEnvelope(m), m);
  });

  test('anything else is dropped', () => {
    const bad: unknown[] = [
      null,
      'ready',
      { body: { type: 'ready' } },
      { id: 1.5, body: { type: 'ready' } },
      { id: 1, body: { type: 'eval', code: 'process.exit()' } },
      { id: 1, body: { type: 'requestStep', step: -1 } },
      { id: 1, body: { type: 'requestStep', step: '3' } },
      { id: 1, body: { type: 'requestHistory', layer: 0, role: 'secrets', maxColumns: 10 } },
      { id: 1, body: { type: 'requestHistory', layer: 0, role: 'param', param: 7, maxColumns: 10 } },
      { id: 1, body: { type: 'control', action: 'kill' } },
      { id: 1, body: { type: 'control', action: 'runTo', toStep: 'all' } },
      { id: 1, body: { type: 'layerSelected', layer: 'x' } },
    ];
    for (const m of bad) assert.equal(asEnvelope(m), undefined, JSON.stringify(m));
  });
});
