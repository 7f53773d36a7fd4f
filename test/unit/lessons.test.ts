// Every lesson in samples/ traced headless to its end, through the same runner the CLI and the
// extension use, and each narrative's claim checked against the trace it produces.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RunnerClient, RunnerError, defaultRunnerPath } from '../../src/host/runnerClient';
import { TraceReader } from '../../src/trace/traceReader';
import type { RunError, StepIndexEntry, StepRecord, TensorRole, TensorValues } from '../../src/shared/traceTypes';

const root = path.resolve(__dirname, '../../..');
const samples = path.join(root, 'samples');
// The numbers in the narratives were measured on wasm, the backend every machine has.
const BACKEND = 'wasm';

interface LessonEntry {
  id: string;
  title: string;
  description: string;
  model: string;
  narrative: string;
}

interface Run {
  reader: TraceReader;
  failure?: RunError;
  seconds: number;
}

const runs = new Map<string, Promise<Run>>();
const tmpDirs: string[] = [];

async function trace(file: string): Promise<Run> {
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gl-lesson-'));
  tmpDirs.push(outDir);
  const runner = RunnerClient.spawn({ runnerPath: defaultRunnerPath(), backend: BACKEND });
  let failure: RunError | undefined;
  runner.onMessage((m) => {
    if (m.type === 'failed') failure = m.error;
  });
  const started = Date.now();
  try {
    await runner.start({ file, outDir, lesson: path.basename(path.dirname(file)) });
  } catch (e) {
    if (!(e instanceof RunnerError)) throw e;
    failure = e.runError;
  }
  await runner.exited;
  return { reader: TraceReader.open(outDir), failure, seconds: (Date.now() - started) / 1000 };
}

/** Traces a lesson file once (relative to samples/), however many tests read it. */
function lesson(relative: string): Promise<Run> {
  let run = runs.get(relative);
  if (!run) {
    run = trace(path.join(samples, relative));
    runs.set(relative, run);
  }
  return run;
}

/** A lesson that must run to its last step without an error. */
async function finished(relative: string): Promise<Run> {
  const run = await lesson(relative);
  const failure = run.failure;
  assert.equal(failure, undefined, `${relative} failed: ${failure?.kind}: ${failure?.message} (step ${failure?.step})\n${failure?.stack ?? ''}`);
  assert.equal(run.reader.end?.state, 'finished', `${relative} ended ${run.reader.end?.state}`);
  assert.equal(run.reader.stepCount, run.reader.meta.config.steps, `${relative}: every step recorded`);
  for (const e of run.reader.index) assert.ok(Number.isFinite(e.loss), `${relative}: loss at step ${e.step} is ${e.loss}`);
  return run;
}

const last = (r: TraceReader): StepIndexEntry => r.index[r.index.length - 1];
const evaluated = (r: TraceReader): StepIndexEntry[] => r.index.filter((e) => e.testAccuracy !== null);
const finalTestAccuracy = (r: TraceReader): number => {
  const evals = evaluated(r);
  assert.ok(evals.length > 0, 'the run evaluated on its test split');
  return evals[evals.length - 1].testAccuracy as number;
};
const meanLoss = (r: TraceReader, lastSteps: number): number => {
  const tail = r.index.slice(-lastSteps);
  return tail.reduce((s, e) => s + e.loss, 0) / tail.length;
};

function tensor(rec: StepRecord, layer: number, role: TensorRole, param?: string): TensorValues {
  const t = rec.tensors.find((v) => v.layer === layer && v.role === role && v.param === param);
  assert.ok(t, `step ${rec.step} keeps layer ${layer} ${role}${param ? ` ${param}` : ''} (kept: ${rec.tensors.map((v) => `${v.layer}:${v.role}${v.param ? `.${v.param}` : ''}`).join(' ')})`);
  return t;
}

function statsOf(rec: StepRecord, layer: number, role: TensorRole, param?: string) {
  const s = rec.summaries.find((v) => v.layer === layer && v.role === role && v.param === param);
  assert.ok(s?.stats, `step ${rec.step} summarises layer ${layer} ${role}${param ? ` ${param}` : ''}`);
  return s.stats;
}

function fraction(values: Float32Array, pred: (v: number) => boolean): number {
  let n = 0;
  for (const v of values) if (pred(v)) n++;
  return n / values.length;
}

function assertClose(actual: ArrayLike<number>, expected: number[], what: string, tolerance = 1e-4): void {
  assert.equal(actual.length, expected.length, `${what}: ${actual.length} values, expected ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tolerance, `${what}[${i}] = ${actual[i]}, the narrative says ${expected[i]}`);
  }
}

function narrative(dir: string): string {
  return fs.readFileSync(path.join(samples, dir, 'README.md'), 'utf8');
}

/** The number as the narratives print it: 4 decimals, a true minus sign. */
const printed = (v: number): string => (v < 0 ? `−${(-v).toFixed(4)}` : v.toFixed(4));

after(() => {
  for (const dir of tmpDirs) fs.rmSync(dir, { recursive: true, force: true });
});

describe('lessons', function () {
  // Each lesson trains for real; the longest (lesson 12) takes under a minute on two cores.
  this.timeout(300_000);

  it('lessons.json lists every lesson folder, in order, with its model and narrative', () => {
    const list = JSON.parse(fs.readFileSync(path.join(samples, 'lessons.json'), 'utf8')) as LessonEntry[];
    const folders = fs
      .readdirSync(samples, { withFileTypes: true })
      .filter((d) => d.isDirectory() && /^\d\d-/.test(d.name))
      .map((d) => d.name)
      .sort();
    assert.deepEqual(list.map((l) => l.id), folders);
    list.forEach((l, i) => {
      assert.ok(l.id.startsWith(String(i + 1).padStart(2, '0')), `${l.id} is lesson ${i + 1}`);
      assert.ok(l.title && l.description, `${l.id} has a title and a description`);
      assert.equal(l.model, `${l.id}/model.ts`);
      assert.equal(l.narrative, `${l.id}/README.md`);
      assert.ok(fs.existsSync(path.join(samples, l.model)), l.model);
      assert.ok(fs.existsSync(path.join(samples, l.narrative)), l.narrative);
    });
    assert.equal(new Set(list.map((l) => l.title)).size, list.length, 'titles are distinct');
  });

  it('1: the seed model has 235,146 parameters (200,960 + 32,896 + 1,290) and starts as noise', async () => {
    const runner = RunnerClient.spawn({ runnerPath: defaultRunnerPath(), backend: BACKEND });
    let summary;
    try {
      summary = (await runner.load(path.join(samples, '01-what-is-a-neural-network/model.ts'))).model;
    } finally {
      await runner.stop();
    }
    assert.equal(summary.totalParams, 235_146);
    assert.deepEqual(summary.layers.map((l) => l.paramCount), [200_960, 32_896, 1_290]);
    assert.deepEqual(summary.layers.map((l) => l.outputShape), [[null, 256], [null, 128], [null, 10]]);
    assert.match(narrative('01-what-is-a-neural-network'), /235,146/);

    const { reader } = await finished('01-what-is-a-neural-network/model.ts');
    const step0 = reader.readStep(0);
    // Untrained: cross-entropy near ln 10 (a uniform guess), every probability near 1/10.
    assert.ok(Math.abs(step0.loss - Math.log(10)) < 0.15, `step-0 loss ${step0.loss}`);
    const probs = statsOf(step0, 2, 'activation');
    assert.ok(probs.min > 0.02 && probs.max < 0.3, `step-0 probabilities in [${probs.min}, ${probs.max}]`);
    assert.ok(statsOf(step0, 0, 'activation').zeroFraction > 0.4, 'ReLU zeroes about half the first layer');
    // The untrained favourite: most of the batch goes to one or two classes, whatever the image.
    const out = tensor(step0, 2, 'activation');
    const votes = new Array<number>(10).fill(0);
    for (let i = 0; i < out.shape[0]; i++) {
      const row = Array.from(out.values.subarray(i * 10, i * 10 + 10));
      votes[row.indexOf(Math.max(...row))]++;
    }
    const [first, second] = [...votes].sort((a, b) => b - a);
    assert.ok(first + second >= 0.8 * out.shape[0], `step-0 predictions per class: ${votes.join(' ')}`);
    const end = last(reader);
    assert.ok(end.loss < 1.6, `20 steps bring the loss down to about 1.3, got ${end.loss}`);
    assert.ok(finalTestAccuracy(reader) > 0.5, `test accuracy after 20 steps: ${finalTestAccuracy(reader)}`);
  });

  it('2: one neuron learns sneakers vs ankle boots with the perceptron rule', async () => {
    const { reader } = await finished('02-the-perceptron/model.ts');
    const step0 = reader.readStep(0);
    // Only mistakes teach: ∂L/∂z is exactly 0 for every example the neuron got right.
    const gradZ = statsOf(step0, 0, 'gradPreactivation');
    assert.ok(Math.abs(gradZ.zeroFraction - (step0.accuracy as number)) < 1e-6, 'zero gradient exactly for the correct answers');
    const evals = evaluated(reader).slice(1);
    assert.ok(evals.every((e) => (e.testAccuracy as number) >= 0.8), 'test accuracy stays above 80% after the first steps');
    assert.ok(finalTestAccuracy(reader) >= 0.9, `final test accuracy ${finalTestAccuracy(reader)}`);
  });

  it('3: a perceptron cannot compute XOR; one hidden layer can', async () => {
    const perceptron = (await finished('03-why-depth-xor/perceptron.ts')).reader;
    for (const e of perceptron.index) {
      assert.ok((e.accuracy as number) <= 0.75, `perceptron step ${e.step}: ${e.accuracy} of the 4 cases right`);
    }
    for (const e of evaluated(perceptron)) assert.ok((e.testAccuracy as number) <= 0.75);

    const mlp = (await finished('03-why-depth-xor/model.ts')).reader;
    assert.equal(finalTestAccuracy(mlp), 1, 'the hidden layer gets all four cases right');
    const firstSolved = evaluated(mlp).find((e) => e.testAccuracy === 1);
    assert.ok(firstSolved && firstSolved.step <= 40, `solved by step 40 (first at ${firstSolved?.step})`);
    assert.ok(last(mlp).loss < 0.01, `final loss ${last(mlp).loss}`);
    // The last batch holds the four cases in shuffled order: read each one's inputs and output.
    const end = mlp.readStep(last(mlp).step);
    const x = tensor(end, 0, 'input').values;
    const out = tensor(end, 1, 'activation').values;
    assert.equal(out.length, 4);
    out.forEach((p, i) => {
      const xor = x[2 * i] !== x[2 * i + 1];
      assert.ok(xor ? p > 0.98 : p < 0.02, `(${x[2 * i]}, ${x[2 * i + 1]}) → p = ${p}`);
    });
  });

  it('4: sigmoid and tanh saturate and ReLU zeroes half its outputs when weights are too large', async () => {
    const normal = (await finished('04-activation-functions/model.ts')).reader.readStep(0);
    const big = (await finished('04-activation-functions/saturated.ts')).reader.readStep(0);
    const sigmoidSaturated = (r: StepRecord) => fraction(tensor(r, 0, 'activation').values, (v) => v < 0.02 || v > 0.98);
    const tanhSaturated = (r: StepRecord) => fraction(tensor(r, 1, 'activation').values, (v) => Math.abs(v) > 0.96);
    assert.equal(sigmoidSaturated(normal), 0);
    assert.equal(tanhSaturated(normal), 0);
    assert.ok(sigmoidSaturated(big) > 0.6, `saturated sigmoid outputs: ${sigmoidSaturated(big)}`);
    assert.ok(tanhSaturated(big) > 0.6, `saturated tanh outputs: ${tanhSaturated(big)}`);
    assert.ok(Math.abs(statsOf(normal, 2, 'activation').zeroFraction - 0.5) < 0.1, 'ReLU zeroes about half its outputs');
    assert.ok((statsOf(normal, 2, 'activation').deadUnitFraction as number) > 0.2, 'some ReLU units are silent on the whole batch');
  });

  it('5: cross-entropy trains the classifier, squared error crawls', async () => {
    const ce = (await finished('05-loss-functions/model.ts')).reader;
    const mse = (await finished('05-loss-functions/squared-error.ts')).reader;
    assert.ok(finalTestAccuracy(ce) > 0.72, `cross-entropy test accuracy ${finalTestAccuracy(ce)}`);
    assert.ok(finalTestAccuracy(ce) - finalTestAccuracy(mse) > 0.1, `CE ${finalTestAccuracy(ce)} vs MSE ${finalTestAccuracy(mse)}`);
    // After 30 steps cross-entropy is past 50%; squared error has barely started.
    const at = (r: TraceReader, step: number) => evaluated(r).find((e) => e.step === step)?.testAccuracy as number;
    assert.ok(at(ce, 30) > 0.5 && at(mse, 30) < 0.3, `step 30: CE ${at(ce, 30)}, MSE ${at(mse, 30)}`);
    // Same weights and batch at step 0, yet squared error's gradient at the scores is far smaller.
    const gradAtScores = (r: TraceReader) => statsOf(r.readStep(0), 1, 'gradPreactivation').l2;
    assert.ok(gradAtScores(ce) > 20 * gradAtScores(mse), `‖∂L/∂z‖: CE ${gradAtScores(ce)}, MSE ${gradAtScores(mse)}`);
  });

  it('6: a too-large learning rate diverges until the loss overflows at step 14', async () => {
    const good = (await finished('06-learning-rate/model.ts')).reader;
    const slow = (await finished('06-learning-rate/too-small.ts')).reader;
    assert.ok(Math.abs(good.index[0].loss - 0.1) < 1e-6, 'zero weights: loss 1/10 at step 0');
    assert.ok(Math.abs(last(good).loss - 0.0492) < 0.002, `model.ts final loss ${last(good).loss}`);
    assert.ok(Math.abs(last(slow).loss - 0.091) < 0.002, `too-small.ts final loss ${last(slow).loss}`);

    const large = await lesson('06-learning-rate/too-large.ts');
    assert.ok(large.failure, 'too-large.ts fails');
    assert.equal(large.failure.kind, 'non-finite');
    assert.equal(large.failure.step, 14);
    assert.match(large.failure.message, /step 14/);
    assert.equal(large.failure.location?.file, path.join(samples, '06-learning-rate/too-large.ts'));
    assert.equal(large.reader.end?.state, 'failed');
    const losses = large.reader.index.map((e) => e.loss);
    for (let i = 1; i < 14; i++) assert.ok(losses[i] > 30 * losses[i - 1], `step ${i}: the loss multiplies (${losses[i - 1]} → ${losses[i]})`);
    assert.match(narrative('06-learning-rate'), /step 14/);
  });

  it('7: step 0 of the 2-2-1 network matches the hand-worked numbers', async () => {
    const { reader } = await finished('07-backpropagation-by-hand/model.ts');
    const s0 = reader.readStep(0);
    const hand = {
      z1: [0.6, -0.5],
      a1: [0.645656, 0.377541],
      z2: [0.498623],
      yHat: [0.622136],
      loss: 0.142781,
      dYHat: [-0.755728],
      dZ2: [-0.177659],
      dW2: [-0.114707, -0.067073],
      db2: [-0.177659],
      dA1: [-0.106595, 0.088829],
      dZ1: [-0.024387, 0.020875],
      dW1: [-0.024387, 0.020875, 0, 0],
      db1: [-0.024387, 0.020875],
      W2: [0.657353, -0.466463],
      b2: [0.388829],
      W1: [0.512194, -0.310438, 0.2, 0.4],
      b1: [0.112194, -0.210438],
      yHatStep1: 0.6554498,
      lossStep1: 0.118715,
    };
    assertClose(tensor(s0, 0, 'preactivation').values, hand.z1, 'z1');
    assertClose(tensor(s0, 0, 'activation').values, hand.a1, 'a1');
    assertClose(tensor(s0, 1, 'preactivation').values, hand.z2, 'z2');
    assertClose(tensor(s0, 1, 'activation').values, hand.yHat, 'ŷ');
    assertClose([s0.loss], [hand.loss], 'loss');
    assertClose(tensor(s0, 1, 'gradActivation').values, hand.dYHat, '∂L/∂ŷ');
    assertClose(tensor(s0, 1, 'gradPreactivation').values, hand.dZ2, '∂L/∂z2');
    assertClose(tensor(s0, 1, 'gradParam', 'kernel').values, hand.dW2, '∂L/∂W2');
    assertClose(tensor(s0, 1, 'gradParam', 'bias').values, hand.db2, '∂L/∂b2');
    assertClose(tensor(s0, 0, 'gradActivation').values, hand.dA1, '∂L/∂a1');
    assertClose(tensor(s0, 0, 'gradPreactivation').values, hand.dZ1, '∂L/∂z1');
    assertClose(tensor(s0, 0, 'gradParam', 'kernel').values, hand.dW1, '∂L/∂W1');
    assertClose(tensor(s0, 0, 'gradParam', 'bias').values, hand.db1, '∂L/∂b1');
    assertClose(tensor(s0, 1, 'param', 'kernel').values, hand.W2, 'W2 after the update');
    assertClose(tensor(s0, 1, 'param', 'bias').values, hand.b2, 'b2 after the update');
    assertClose(tensor(s0, 0, 'param', 'kernel').values, hand.W1, 'W1 after the update');
    assertClose(tensor(s0, 0, 'param', 'bias').values, hand.b1, 'b1 after the update');
    const s1 = reader.readStep(1);
    assertClose(tensor(s1, 1, 'activation').values, [hand.yHatStep1], 'ŷ at step 1');
    assertClose([s1.loss], [hand.lossStep1], 'loss at step 1');

    // And the narrative prints those same numbers.
    const text = narrative('07-backpropagation-by-hand');
    const everyValue = [
      ...hand.z1, ...hand.a1, ...hand.z2, ...hand.yHat, hand.loss, ...hand.dYHat, ...hand.dZ2, ...hand.dW2,
      ...hand.dA1, ...hand.dZ1, ...hand.W2, ...hand.b2, 0.5122, -0.3104, ...hand.b1, hand.yHatStep1, hand.lossStep1,
    ];
    for (const v of everyValue) assert.ok(text.includes(printed(v)), `the narrative shows ${printed(v)}`);
  });

  it('8: ten sigmoid layers starve the first layers of gradient; ReLU with He initialisation does not', async () => {
    const kernelGradNorms = (r: TraceReader) => {
      const s0 = r.readStep(0);
      return r.meta.model.layers.map((_, i) => statsOf(s0, i, 'gradParam', 'kernel').l2);
    };
    const sigmoid = kernelGradNorms((await finished('08-initialisation-and-depth/model.ts')).reader);
    const he = kernelGradNorms((await finished('08-initialisation-and-depth/relu-he.ts')).reader);
    assert.ok(sigmoid[0] / sigmoid[10] < 1e-4, `sigmoid: first/last gradient norm ${sigmoid[0] / sigmoid[10]}`);
    for (let i = 1; i < 10; i++) assert.ok(sigmoid[i - 1] < sigmoid[i], `sigmoid gradients grow towards the output (${i})`);
    // Layers 1-10 have 64×64 (or 64×10) kernels; layer 0's 784 inputs make its norm larger.
    const heRest = he.slice(1);
    assert.ok(Math.max(...heRest) / Math.min(...heRest) < 3, `He: gradient norms within ×3 (${heRest.join(', ')})`);
    assert.ok(he[0] / he[10] > 0.1, 'the first layer gets a gradient as large as the output layer');

    const exploding = (await finished('08-initialisation-and-depth/exploding.ts')).reader;
    const e0 = exploding.readStep(0);
    assert.ok(statsOf(e0, 9, 'activation').mean > 1000 * statsOf(e0, 0, 'activation').mean, 'activations grow layer by layer');
    assert.ok(statsOf(e0, 10, 'gradParam', 'kernel').l2 === 0, 'a saturated softmax under clipped cross-entropy passes back nothing');
    assert.ok(finalTestAccuracy(exploding) < 0.2, 'it never learns');
  });

  it('9: momentum and Adam beat plain SGD from the same start', async () => {
    const sgd = (await finished('09-optimisers/model.ts')).reader;
    const momentum = (await finished('09-optimisers/momentum.ts')).reader;
    const adam = (await finished('09-optimisers/adam.ts')).reader;
    assert.equal(sgd.index[0].loss, momentum.index[0].loss, 'same initial weights and first batch');
    assert.equal(sgd.index[0].loss, adam.index[0].loss);
    assert.ok(meanLoss(momentum, 50) < meanLoss(sgd, 50) - 0.2, `momentum ${meanLoss(momentum, 50)} vs SGD ${meanLoss(sgd, 50)}`);
    assert.ok(meanLoss(adam, 50) < meanLoss(sgd, 50) - 0.2, `Adam ${meanLoss(adam, 50)} vs SGD ${meanLoss(sgd, 50)}`);
    assert.ok(finalTestAccuracy(momentum) > finalTestAccuracy(sgd) + 0.03);
    assert.ok(finalTestAccuracy(adam) > finalTestAccuracy(sgd) + 0.03);
  });

  it('10: a big network memorises 256 images; its test loss rises; dropout lowers it', async () => {
    const plain = (await finished('10-overfitting-and-dropout/model.ts')).reader;
    const testLoss = (r: TraceReader) => evaluated(r).map((e) => r.readStep(e.step).testLoss as number);
    assert.ok(plain.index.slice(-100).every((e) => e.accuracy === 1), 'every training batch of the last 100 steps is 100% right');
    assert.ok(last(plain).loss < 0.01, `training loss ${last(plain).loss}`);
    assert.ok(finalTestAccuracy(plain) < 0.82, `test accuracy ${finalTestAccuracy(plain)}`);
    const plainLoss = testLoss(plain);
    const best = Math.min(...plainLoss);
    assert.ok(plainLoss[plainLoss.length - 1] > best + 0.1, `test loss rises from its best ${best} to ${plainLoss[plainLoss.length - 1]}`);

    const dropout = (await finished('10-overfitting-and-dropout/dropout.ts')).reader;
    const dropoutLoss = testLoss(dropout);
    assert.ok(dropoutLoss[dropoutLoss.length - 1] < plainLoss[plainLoss.length - 1], 'dropout ends with a lower test loss');
    assert.ok(meanLoss(dropout, 50) > meanLoss(plain, 50), 'and a higher training loss: it memorises less');
  });

  it('11: batch normalisation trains six layers faster than the same layers without it', async () => {
    const bn = (await finished('11-batch-normalisation/model.ts')).reader;
    const plain = (await finished('11-batch-normalisation/plain.ts')).reader;
    assert.ok(meanLoss(bn, 30) < meanLoss(plain, 30) - 0.2, `BN ${meanLoss(bn, 30)} vs plain ${meanLoss(plain, 30)}`);
    assert.ok(finalTestAccuracy(bn) > finalTestAccuracy(plain) + 0.1, `BN ${finalTestAccuracy(bn)} vs plain ${finalTestAccuracy(plain)}`);
    // Without it the signal fades layer by layer; with it every normalised layer has std 1.
    const plain0 = plain.readStep(0);
    const reluStd = plain.meta.model.layers.flatMap((l, i) => (l.activation === 'relu' ? [statsOf(plain0, i, 'activation').std] : []));
    assert.equal(reluStd.length, 6);
    for (let i = 1; i < 6; i++) assert.ok(reluStd[i] < 0.8 * reluStd[i - 1], `plain: ReLU std shrinks (${reluStd.join(', ')})`);
    const bn0 = bn.readStep(0);
    bn.meta.model.layers.forEach((l, i) => {
      if (l.type === 'BatchNormalization') assert.ok(Math.abs(statsOf(bn0, i, 'activation').std - 1) < 0.01, `layer ${i} std 1`);
    });
  });

  it('12: the lesson-1 MLP reaches ≥ 80% accuracy on the 1,000 test images', async () => {
    const { reader, seconds } = await finished('12-train-the-mlp/model.ts');
    assert.equal(reader.meta.model.totalParams, 235_146);
    assert.equal(reader.meta.config.evalEvery, 25);
    const acc = finalTestAccuracy(reader);
    assert.ok(acc >= 0.8, `final test accuracy ${(acc * 100).toFixed(1)}% (run took ${seconds.toFixed(0)} s)`);
    assert.equal(evaluated(reader).at(-1)?.step, reader.meta.config.steps - 1, 'evaluated at the last step');
  });

  it('13: a small convolutional network learns the same images', async () => {
    const { reader } = await finished('13-convolutional-network/model.ts');
    assert.equal(reader.meta.model.totalParams, 80 + 1_168 + 4_010);
    assert.ok(finalTestAccuracy(reader) >= 0.75, `final test accuracy ${finalTestAccuracy(reader)}`);
  });
});
