// XNNPACK's thread pool on the wasm backend (src/runner/wasmThreads.ts): how many threads
// `auto` means, what a setting may say, and that a run with a pool of two records what a run
// with one thread does, bit for bit, through the real runner (conv net and MLP).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { autoWasmThreads, wasmThreadsSetting } from '../../src/runner/wasmThreads';
import { diffRuns } from '../../src/trace/runDiff';
import { TraceReader } from '../../src/trace/traceReader';
import { traceWithRunner } from './helpers/runnerTrace';

const root = path.resolve(__dirname, '../../..');

describe('wasm threads', function () {
  this.timeout(180_000);

  it('auto is half the logical cores, at least 1 and at most 4; a setting is auto or 1–8', () => {
    assert.deepEqual([1, 2, 3, 4, 6, 8, 16, 64].map(autoWasmThreads), [1, 1, 1, 2, 3, 4, 4, 4]);
    assert.equal(wasmThreadsSetting(undefined), autoWasmThreads());
    assert.equal(wasmThreadsSetting('auto'), autoWasmThreads());
    assert.equal(wasmThreadsSetting('3'), 3);
    for (const bad of ['0', '9', '2.5', 'two', '-1']) assert.throws(() => wasmThreadsSetting(bad), /'auto' or a whole number from 1 to 8/);
  });

  for (const [what, file] of [
    ['a conv net', 'test/unit/fixtures/threads/convNet.ts'],
    ['the seed MLP', 'test/unit/fixtures/tinyModel.ts'],
  ] as const) {
    it(`${what}: a pool of two threads records every value a single thread does`, async () => {
      const one = await traceWithRunner(path.join(root, file), 'wasm', undefined, 1);
      const two = await traceWithRunner(path.join(root, file), 'wasm', undefined, 2);
      try {
        assert.equal(one.failure, undefined, one.failure?.message);
        assert.equal(two.failure, undefined, two.failure?.message);
        const a = TraceReader.open(one.dir);
        const b = TraceReader.open(two.dir);
        try {
          assert.equal(a.meta.backend.threads, 1);
          assert.equal(b.meta.backend.threads, 2, 'the trace says the pool it ran on');
          assert.ok(b.stepCount >= 2, `${b.stepCount} steps`);
          const diff = diffRuns(a, b);
          assert.equal(diff.identical, true, JSON.stringify(diff.firstDivergence));
        } finally {
          a.close();
          b.close();
        }
      } finally {
        fs.rmSync(one.dir, { recursive: true, force: true });
        fs.rmSync(two.dir, { recursive: true, force: true });
      }
    });
  }
});
