// The user's own models, run in the runner process as the CLI and the extension run them:
// custom layer classes, embeddings, and model.fit with stock tfjs's semantics.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RunnerClient, RunnerError, defaultRunnerPath } from '../../src/host/runnerClient';
import { TraceReader } from '../../src/trace/traceReader';
import type { RunError } from '../../src/shared/traceTypes';

const root = path.resolve(__dirname, '../../..');
const fixture = (name: string) => path.join(root, 'test/unit/fixtures', name);

async function traceToEnd(file: string, backend = 'wasm', overrides = {}): Promise<{ dir: string; failure?: RunError }> {
  const runner = RunnerClient.spawn({ runnerPath: defaultRunnerPath(), backend });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gl-user-model-'));
  let failure: RunError | undefined;
  runner.onMessage((m) => {
    if (m.type === 'failed') failure = m.error;
  });
  try {
    await runner.start({ file, outDir: dir, overrides, typeCheck: 'off' });
  } catch (e) {
    if (!(e instanceof RunnerError)) throw e;
    failure = e.runError;
  }
  await runner.exited;
  return { dir, failure };
}

describe('the user’s own models in the runner', () => {
  it('custom layer classes load, trace as one layer each, at the line of their `new`', async () => {
    const file = fixture('customLayer.ts');
    const { dir, failure } = await traceToEnd(file);
    assert.equal(failure, undefined);
    const r = TraceReader.open(dir);
    const layers = r.meta.model.layers;
    assert.deepEqual(layers.map((l) => l.type), ['ScaledDense', 'Squash', 'Dense']);
    assert.deepEqual(layers.map((l) => l.location?.line), [54, 56, 58]);
    assert.equal(layers[0].paramCount, 5 * 8 + 8);
    assert.equal(r.stepCount, 8, '2 epochs × 40 examples / batch 10');
    assert.equal(r.end?.state, 'finished');
    r.close();
  });

  it('an exception in a custom layer’s call is a user exception at its line, naming the layer', async () => {
    const file = fixture('customLayerThrows.ts');
    const { failure } = await traceToEnd(file);
    assert.equal(failure?.kind, 'user-exception');
    assert.match(failure!.message, /Layer 1 'fragile.*' \(Fragile\), forward pass: Fragile layer refuses this input/);
    assert.deepEqual([failure?.location?.file, failure?.location?.line], [file, 7]);
    assert.equal(failure?.step, 0);
  });

  it('a text model: integer token ids through an embedding train on wasm and cpu alike', async () => {
    const losses: number[][] = [];
    for (const backend of ['wasm', 'cpu']) {
      const { dir, failure } = await traceToEnd(fixture('embeddingModel.ts'), backend);
      assert.equal(failure, undefined, `${backend}: ${failure?.message}`);
      const r = TraceReader.open(dir);
      assert.equal(r.meta.model.layers[0].type, 'Embedding');
      assert.equal(r.stepCount, 16, '4 epochs × 32 examples / batch 8');
      const step0 = r.readStep(0);
      assert.ok(step0.summaries.some((s) => s.layer === 0 && s.role === 'gradParam' && s.param === 'embeddings'), 'the table has a gradient');
      losses.push(Array.from({ length: r.stepCount }, (_, s) => r.entry(s).loss));
      r.close();
    }
    assert.ok(losses[0][15] < losses[0][0], 'it learns');
    losses[0].forEach((l, s) => assert.ok(Math.abs(l - losses[1][s]) < 1e-4, `step ${s}: wasm ${l} vs cpu ${losses[1][s]}`));
  });

  it('a residual functional model trained with fit: traced node by node, at each layer’s line', async () => {
    const { dir, failure } = await traceToEnd(fixture('residualFit.ts'));
    assert.equal(failure, undefined, failure?.message);
    const r = TraceReader.open(dir);
    assert.deepEqual(r.meta.model.layers.map((l) => l.type), ['Dense', 'Dense', 'Add', 'Dense']);
    assert.deepEqual(r.meta.model.layers.map((l) => l.location?.line), [8, 9, 10, 11]);
    assert.equal(r.stepCount, 5 * 3, '5 epochs × ceil(48 / 16)');
    assert.ok(r.entry(14).loss < r.entry(0).loss, 'it learns');
    assert.ok(r.entry(2).testAccuracy !== null, 'the held-out quarter is evaluated at each epoch’s end');
    r.close();
  });
});
