// Workspace trust, in the trusted pass: the gate's message and the manifest's declaration.
// untrusted.test.ts runs in a really untrusted workspace (run.mjs's second server).
import * as assert from 'node:assert/strict';
import { activateExtension, manifest } from './helpers';
import type { GradientLensApi } from '../../../src/extension/extension';

suite('workspace trust', () => {
  let api: GradientLensApi;
  suiteSetup(async () => {
    api = await activateExtension();
  });

  test('an untrusted workspace refuses to run user code, with a clear message', () => {
    const refusal = api.trustRefusal(false, 'Trace This File');
    assert.ok(refusal);
    assert.match(refusal, /Trace This File runs the model file's code, so it needs a trusted workspace/);
    assert.match(refusal, /Open Trace/);
  });

  test('a trusted workspace runs', () => {
    assert.equal(api.trustRefusal(true, 'Trace This File'), undefined);
  });

  test('the manifest declares limited support for untrusted workspaces and a workspace extension', () => {
    assert.equal(manifest().capabilities.untrustedWorkspaces.supported, 'limited');
    assert.deepEqual(manifest().extensionKind, ['workspace']);
  });
});
