// The tfjs a model file gets (src/runner/tfjsPackages.ts, what `@tensorflow/tfjs` is in the
// runner's bundle): every export of the umbrella package but WebGL's, so a user's script finds
// what it would under stock tfjs; the converter's exports are the converter's own.
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { withConverter } from '../../src/runner/tfjsPackages';

/** tfjs-backend-webgl's exports, which cannot run in Node. */
const WEBGL_ONLY = new Set(['GPGPUContext', 'MathBackendWebGL', 'forceHalfFloat', 'gpgpu_util', 'setWebGLContext', 'version_webgl', 'webgl', 'webgl_util']);

describe("the runner's tfjs", () => {
  it('has every export of @tensorflow/tfjs but WebGL, as the same values', () => {
    const umbrella = require('@tensorflow/tfjs/dist/tf.node.js') as Record<string, unknown>;
    const ours = withConverter(tf) as unknown as Record<string, unknown>;
    const missing = Object.keys(umbrella).filter((k) => !WEBGL_ONLY.has(k) && !(k in ours));
    assert.deepEqual(missing, []);
    for (const name of ['matMul', 'sequential', 'layers', 'train', 'Tensor', 'LayersModel', 'loadGraphModel', 'GraphModel']) {
      assert.equal(ours[name], umbrella[name], name);
    }
    assert.equal(tf.data.array, (umbrella.data as Record<string, unknown>).array);
    assert.deepEqual({ ...tf.version }, Object.fromEntries(Object.entries(umbrella.version as Record<string, string>).filter(([k]) => k !== 'tfjs-backend-webgl' && k !== 'tfjs-converter')));
  });
});
