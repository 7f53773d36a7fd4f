// The runner as a child process, driven through RunnerClient as the CLI and the extension do:
// runs, live control, reproducibility, and every way a user's file or the runner can go wrong.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LossTrend, layerHealth } from '../../src/shared/health';
import { RunnerClient, RunnerError, defaultRunnerPath } from '../../src/host/runnerClient';
import { TraceReader } from '../../src/trace/traceReader';
import type { FromRunner } from '../../src/shared/protocol';
import type { RunError } from '../../src/shared/traceTypes';

const root = path.resolve(__dirname, '../../..');
const fixture = (name: string) => path.join(root, 'test/unit/fixtures', name);
const runnerPath = defaultRunnerPath();
const backends = (process.env.GRADIENT_LENS_TEST_BACKENDS ?? 'wasm,cpu').split(',');

function outDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'gl-run-'));
}

function waitFor<T extends FromRunner>(runner: RunnerClient, pred: (m: FromRunner) => m is T, timeoutMs = 30_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out waiting for a runner message')), timeoutMs);
    const off = runner.onMessage((m) => {
      if (pred(m)) {
        clearTimeout(timer);
        off();
        resolve(m);
      }
    });
  });
}

const isFailed = (m: FromRunner): m is Extract<FromRunner, { type: 'failed' }> => m.type === 'failed';

async function traceToEnd(file: string, backend = 'wasm', overrides = {}): Promise<{ dir: string; failure?: RunError }> {
  const runner = RunnerClient.spawn({ runnerPath, backend });
  const dir = outDir();
  let failure: RunError | undefined;
  runner.onMessage((m) => {
    if (m.type === 'failed') failure = m.error;
  });
  try {
    await runner.start({ file, outDir: dir, overrides });
  } catch (e) {
    if (!(e instanceof RunnerError)) throw e;
    failure = e.runError;
  }
  await runner.exited;
  return { dir, failure };
}

for (const backend of backends) {
  describe(`runner on ${backend}`, () => {
    it('traces a model to the end and records every step', async () => {
      const { dir, failure } = await traceToEnd(fixture('tinyModel.ts'), backend);
      assert.equal(failure, undefined);
      const r = TraceReader.open(dir);
      assert.equal(r.meta.backend.name, backend);
      assert.match(r.meta.backend.reason, new RegExp(`${backend} requested`), 'the reason is recorded');
      assert.equal(r.stepCount, 40);
      assert.equal(r.end?.state, 'finished');
      assert.equal(r.meta.model.totalParams, 6 * 8 + 8 + 8 * 3 + 3);
      assert.equal(r.meta.model.layers[0].location?.line, 10, 'layer 0 was built on line 10 of the fixture');
      assert.ok(r.entry(39).loss < r.entry(0).loss, 'it learns');
      assert.ok(r.entry(0).testAccuracy !== null, 'evaluated on the test split');
      r.close();
    });
  });
}

describe('runner', () => {
  it('started means the trace exists: it opens at once', async () => {
    const runner = RunnerClient.spawn({ runnerPath });
    const started = await runner.start({ file: fixture('tinyModel.ts'), outDir: outDir(), startPaused: true, typeCheck: 'off' });
    const r = TraceReader.open(started.traceDir, { live: true });
    assert.equal(r.stepCount, 0);
    assert.equal(r.meta.runId, started.meta.runId);
    await runner.stop();
  });

  it('the same file and seed give the same trace; another seed a different one', async () => {
    const a = await traceToEnd(fixture('tinyModel.ts'), 'wasm', { steps: 5 });
    const b = await traceToEnd(fixture('tinyModel.ts'), 'wasm', { steps: 5 });
    const c = await traceToEnd(fixture('tinyModel.ts'), 'wasm', { steps: 5, seed: 99 });
    const [ra, rb, rc] = [a, b, c].map((x) => TraceReader.open(x.dir));
    for (let s = 0; s < 5; s++) {
      assert.equal(ra.entry(s).loss, rb.entry(s).loss);
      const sa = ra.readStep(s).summaries.map((x) => x.stats?.l2);
      assert.deepEqual(sa, rb.readStep(s).summaries.map((x) => x.stats?.l2));
    }
    assert.notEqual(ra.entry(0).loss, rc.entry(0).loss);
  });

  it('traces a hand-written model marked with tap', async () => {
    const { dir, failure } = await traceToEnd(fixture('tappedNeuron.ts'));
    assert.equal(failure, undefined);
    const r = TraceReader.open(dir);
    assert.equal(r.meta.model.kind, 'tapped');
    assert.equal(r.meta.model.layers[0].name, 'z = x·w + b');
    assert.equal(r.meta.model.totalParams, 3);
    assert.equal(r.meta.model.layers[0].location?.line, 14);
    const step0 = r.readStep(0);
    const roles = step0.summaries.filter((s) => s.layer === 0).map((s) => `${s.role}${s.param ? `.${s.param}` : ''}`);
    for (const role of ['preactivation', 'gradPreactivation', 'gradParam.w', 'gradParam.b', 'delta.w']) assert.ok(roles.includes(role), `${role} captured`);
    // Each layer's health is judged once, in the runner, with the loss trend so far (at step 0,
    // none), and stored with the record (as stored: JSON keeps no undefined fields).
    const judged = layerHealth(step0.summaries, r.meta.model.layers, new LossTrend().observe(step0.loss));
    assert.deepEqual(step0.health, JSON.parse(JSON.stringify(judged)));
    assert.equal(step0.health?.length, r.meta.model.layers.length);
    // The perceptron rule: misclassified examples move w by lr·y·x / batch; all are right by the end.
    assert.equal(r.entry(r.stepCount - 1).accuracy, 1);
  });

  it('a plain script that compiles and calls model.fit is traced: fit declares the training', async () => {
    const { dir, failure } = await traceToEnd(fixture('plainFit.ts'));
    assert.equal(failure, undefined);
    const r = TraceReader.open(dir);
    assert.equal(r.stepCount, 9, '3 epochs × 48 examples / batch 16');
    assert.equal(r.meta.config.batchSize, 16);
    assert.equal(r.meta.config.loss, 'categoricalCrossentropy');
    assert.ok(r.entry(2).testAccuracy !== null, 'validationData becomes the test split, measured at each epoch’s end');
  });

  it('a syntax error points at the user file, line and column', async () => {
    const file = fixture('broken/syntaxError.ts');
    const { failure } = await traceToEnd(file);
    assert.equal(failure?.kind, 'syntax');
    assert.equal(failure?.location?.file, file);
    assert.equal(failure?.location?.line, 4);
    assert.equal(failure?.location?.column, 56);
  });

  it('an exception in user code mid-training is reported at their line, with the step', async () => {
    const file = fixture('throwsMidTraining.ts');
    const { dir, failure } = await traceToEnd(file);
    assert.equal(failure?.kind, 'user-exception');
    assert.match(failure!.message, /the data source ran dry/);
    assert.equal(failure?.location?.file, file);
    assert.equal(failure?.location?.line, 8);
    assert.equal(failure?.step, 3);
    const r = TraceReader.open(dir);
    assert.equal(r.stepCount, 3, 'the steps before the failure are kept');
    assert.equal(r.end?.state, 'failed');
  });

  it('non-finite loss stops the run with the step and the first layer that went non-finite', async () => {
    const { dir, failure } = await traceToEnd(fixture('nanLoss.ts'));
    assert.equal(failure?.kind, 'non-finite');
    const r = TraceReader.open(dir);
    const last = r.readStep(failure!.step!);
    assert.equal(last.step, r.stepCount - 1, 'the failing step is recorded');
    // Every step before it was finite.
    for (let s = 0; s < failure!.step!; s++) assert.ok(Number.isFinite(r.entry(s).loss));
    // The layer named is the first (in phase order) whose captured tensors hold NaN/Inf.
    // When the loss overflowed before any tensor did, the layer with the largest outputs is named.
    const bad = last.summaries.find((t) => t.stats && t.stats.nanCount + t.stats.infCount > 0);
    const largest = last.summaries
      .filter((t) => t.role === 'activation')
      .sort((a, b) => Math.max(Math.abs(b.stats!.min), b.stats!.max) - Math.max(Math.abs(a.stats!.min), a.stats!.max))[0];
    const expected = bad ? bad.layer : largest.layer;
    assert.equal(failure?.layer, expected);
    assert.ok(!Number.isFinite(last.loss), 'the non-finite loss survives the trace file');
    assert.match(failure!.message, new RegExp(`at step ${failure!.step}\\..*layer ${expected} '`));
    assert.equal(failure?.location?.line, r.meta.model.layers[expected].location?.line);
  });

  it('a model it cannot trace names the layer, its line and why', async () => {
    const file = fixture('unsupportedLayer.ts');
    const { failure } = await traceToEnd(file);
    assert.equal(failure?.kind, 'unsupported-layer');
    assert.match(failure!.message, /Layer 2 '.*' \(LSTM\) cannot be traced: dropout inside a recurrent layer is not traced yet/);
    assert.equal(failure?.location?.line, 8);
  });

  it('a file that declares no training says what to write', async () => {
    const { failure } = await traceToEnd(fixture('broken/noTraining.ts'));
    assert.equal(failure?.kind, 'contract');
    assert.match(failure!.message, /export default defineTraining/);
  });

  it('a capture policy no trace could hold is refused at the start, naming the field', async () => {
    const { failure } = await traceToEnd(fixture('broken/badCapture.ts'));
    assert.equal(failure?.kind, 'contract');
    assert.equal(failure?.message, 'defineTraining: capture.keyframePrecision: expected one of "exact", "float16", got string "half".');
    assert.equal(failure?.location?.line, 1);
  });

  it('a runaway loop at load: the request times out and the runner is killed', async () => {
    const runner = RunnerClient.spawn({ runnerPath });
    await runner.ready;
    await assert.rejects(runner.load(fixture('broken/runawayLoop.ts'), 1500), (e: RunnerError) => e.runError.kind === 'timeout');
    const exit = await runner.exited;
    assert.equal(exit.signal, 'SIGKILL');
  });

  it('stop answers within a second while user code is busy between steps', async () => {
    const runner = RunnerClient.spawn({ runnerPath });
    const stepped = waitFor(runner, (m): m is Extract<FromRunner, { type: 'stepDone' }> => m.type === 'stepDone' && m.entry.step === 0);
    await runner.start({ file: fixture('slowBetweenSteps.ts'), outDir: outDir(), typeCheck: 'off' });
    await stepped; // from step 2 on, its nextBatch busy-waits for 20 s
    const t0 = Date.now();
    await runner.stop(500);
    assert.ok(Date.now() - t0 < 1000, `stopped in ${Date.now() - t0} ms`);
    assert.equal(runner.alive, false);
  });

  it('a runner killed from outside is reported, and the trace opens up to the last whole step', async () => {
    const runner = RunnerClient.spawn({ runnerPath });
    const dir = outDir();
    const failed = waitFor(runner, isFailed);
    const reported: number[] = [];
    runner.onMessage((m) => m.type === 'stepDone' && reported.push(m.entry.step));
    const stepped = waitFor(runner, (m): m is Extract<FromRunner, { type: 'stepDone' }> => m.type === 'stepDone' && m.entry.step === 0);
    await runner.start({ file: fixture('slowBetweenSteps.ts'), outDir: dir, typeCheck: 'off' });
    await stepped;
    process.kill(runner.pid!, 'SIGKILL');
    assert.equal((await failed).error.kind, 'runner-crashed');
    const r = TraceReader.open(dir);
    // Every step reported done is on disk (one more may be, if it was written as the kill came).
    assert.ok(r.stepCount >= reported.length && r.stepCount <= 3, `${r.stepCount} steps on disk, ${reported.length} reported`);
    assert.equal(r.readStep(r.stepCount - 1).step, r.stepCount - 1);
    assert.equal(r.end, undefined);
  });

  it('live control: pause, step one phase, step one batch, run to a step, continue', async () => {
    const runner = RunnerClient.spawn({ runnerPath });
    const dir = outDir();
    const atPhase = () => waitFor(runner, (m): m is Extract<FromRunner, { type: 'atPhase' }> => m.type === 'atPhase');
    const entry = atPhase();
    await runner.start({ file: fixture('tinyModel.ts'), outDir: dir, startPaused: true, overrides: { steps: 20 } });
    assert.deepEqual(await entry, { type: 'atPhase', step: 0, phase: 'forward', layer: -1 });
    const strip = ({ record: _record, ...at }: Extract<FromRunner, { type: 'atPhase' }>) => at;
    // Phase by phase through step 0: forward 0, forward 1, loss, backward 1, backward 0, update.
    const seen: string[] = [];
    const heldRecords: string[][] = [];
    const heldSamples: { loss: number; accuracy?: number; samples?: { index: number; target: number[]; prediction: number[] }[] }[] = [];
    for (let i = 0; i < 6; i++) {
      const next = atPhase();
      await runner.control('stepPhase');
      const m = await next;
      seen.push(`${m.step}:${m.phase}:${m.layer}`);
      heldRecords.push(m.record!.summaries.map((s) => `${s.layer}:${s.role}`));
      heldSamples.push({ loss: m.record!.loss, accuracy: m.record!.accuracy, samples: m.record!.samples });
      assert.equal(m.record!.step, 0);
    }
    assert.deepEqual(seen, ['0:forward:0', '0:forward:1', '0:loss:-1', '0:backward:1', '0:backward:0', '0:update:-1']);
    assert.deepEqual(heldRecords[0], ['0:input', '0:preactivation', '0:activation'], 'held after forward 0: what it computed so far');
    assert.ok(heldRecords[2].includes('1:activation') && !heldRecords[2].some((r) => r.includes('grad')), 'after the loss, no gradient yet');
    assert.ok(heldRecords[3].includes('1:gradParam'), 'after backward 1, its gradients');
    let next = atPhase();
    await runner.control('stepBatch');
    assert.deepEqual(strip(await next), { type: 'atPhase', step: 1, phase: 'update', layer: -1 });
    next = atPhase();
    await runner.control('runTo', 7);
    assert.deepEqual(strip(await next), { type: 'atPhase', step: 7, phase: 'update', layer: -1 });
    const done = waitFor(runner, (m): m is Extract<FromRunner, { type: 'state' }> => m.type === 'state' && m.state === 'finished');
    await runner.control('continue');
    await done;
    await runner.exited;
    const trace = TraceReader.open(dir);
    assert.equal(trace.stepCount, 20);
    // The selected example while step 0 was held: its target from the start, its prediction (and
    // the loss and accuracy) from the loss phase on, the very numbers step 0 recorded.
    const recorded = trace.readStep(0);
    const want = recorded.samples![0];
    assert.equal(want.prediction.length, 3);
    heldSamples.forEach((held, i) => {
      const afterLoss = i >= 2;
      assert.deepEqual(held.samples?.map((x) => x.target), [want.target], `stop ${i}: the target`);
      assert.deepEqual(held.samples![0].prediction, afterLoss ? want.prediction : [], `stop ${i}: the prediction`);
      if (afterLoss) {
        assert.equal(held.loss, recorded.loss, `stop ${i}: the loss`);
        assert.equal(held.accuracy, recorded.accuracy, `stop ${i}: the accuracy`);
      } else {
        assert.ok(Number.isNaN(held.loss), `stop ${i}: no loss before the loss phase`);
      }
    });
    trace.close();
  });
});
