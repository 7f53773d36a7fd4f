// The packages tfjs loads but training never uses (src/runner/deferredPackages.ts): stood in for
// until first used, then the real package; the stand-ins' export lists are the installed
// packages' own; and a model file's tfjs still has them.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { DEFERRED_TFJS_PACKAGES, deferPackage } from '../../src/runner/deferredPackages';
import { LayerLocations, withLayerLocations } from '../../src/runner/layerLocations';
import { useBackend } from './helpers/tracerHarness';

const umbrella = path.dirname(require.resolve('@tensorflow/tfjs/package.json'));

describe('deferred tfjs packages', () => {
  before(() => useBackend('cpu'));

  it('a stand-in loads nothing until an export is read, has the version at once, then is the real package', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gl-deferred-'));
    const pkg = path.join(dir, 'node_modules', 'fake-deferred');
    fs.mkdirSync(pkg, { recursive: true });
    fs.writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name: 'fake-deferred', version: '9.9.9', main: 'index.js' }));
    fs.writeFileSync(path.join(pkg, 'index.js'), "globalThis.__fakeDeferredLoads = (globalThis.__fakeDeferredLoads || 0) + 1; exports.twice = (x) => 2 * x; exports.version_fake = '9.9.9';");
    const loads = () => (globalThis as { __fakeDeferredLoads?: number }).__fakeDeferredLoads ?? 0;
    assert.equal(deferPackage({ name: 'fake-deferred', exports: ['twice', 'version_fake'], versionExport: 'version_fake' }, dir), true);
    const required = require(require.resolve('fake-deferred', { paths: [dir] })) as { twice(x: number): number; version_fake: string };
    assert.deepEqual(Object.keys(required), ['twice', 'version_fake']);
    assert.equal(required.version_fake, '9.9.9');
    assert.equal(loads(), 0, 'not loaded by require or by its version');
    assert.equal(required.twice(21), 42);
    assert.equal(loads(), 1);
    assert.equal((require(require.resolve('fake-deferred', { paths: [dir] })) as { twice: unknown }).twice, required.twice, 'the real package from then on');
    assert.equal(loads(), 1);
    assert.equal(deferPackage({ name: 'fake-deferred', exports: ['twice'], versionExport: 'version_fake' }, dir), false, 'a loaded package is left alone');
    fs.rmSync(dir, { recursive: true });
  });

  for (const pkg of DEFERRED_TFJS_PACKAGES) {
    it(`${pkg.name}: the stand-in names every export of the installed package`, () => {
      const file = require.resolve(pkg.name, { paths: [umbrella] });
      const first = require(file) as Record<string, unknown>;
      void first[pkg.exports.find((e) => e !== pkg.versionExport)!]; // loads the real package if this was the stand-in
      const real = require.cache[file]!.exports as Record<string, unknown>;
      assert.deepEqual(Object.keys(real).filter((k) => k !== 'default').sort(), [...pkg.exports].sort());
      assert.equal(first[pkg.versionExport], real[pkg.versionExport]);
    });
  }

  it("a model file's tfjs has the converter's exports, as the converter's own, and chained ops", () => {
    const userTf = withLayerLocations(tf, new LayerLocations(() => false)) as unknown as Record<string, unknown>;
    const converter = require(require.resolve('@tensorflow/tfjs-converter', { paths: [umbrella] })) as Record<string, unknown>;
    assert.equal(typeof userTf.loadGraphModel, 'function');
    assert.equal(userTf.loadGraphModel, converter.loadGraphModel);
    assert.equal(userTf.GraphModel, converter.GraphModel);
    assert.equal((userTf.version as Record<string, string>)['tfjs-converter'], converter.version_converter);
    assert.deepEqual(Array.from(tf.tidy(() => tf.tensor1d([1, -2, 3]).square().relu().dataSync())), [1, 4, 9]);
  });
});
