// Comparing two runs: the first divergence (step, phase, layer), tolerance, layer matching, the
// per-layer table; then for real, through the CLI: a replayed run is identical on cpu and wasm,
// and a model with one initialiser changed first differs at step 0 in that layer.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { summarize } from '../../src/runner/capture/summarize';
import { otherRunsOfFile } from '../../src/trace/runCatalog';
import { RunDiffer, agrees, diffRuns, diffRunsInSlices, matchLayers, type DiffableRun } from '../../src/trace/runDiff';
import { runDiffMarkdown } from '../../src/trace/runDiffReport';
import { PanelComparison } from '../../src/trace/compareMessage';
import { TraceReader } from '../../src/trace/traceReader';
import { TraceWriter } from '../../src/trace/traceWriter';
import { testRunMeta } from './helpers/runMeta';
import type { LayerInfo, RunMeta, StepRecord, TensorRole, TensorSummary } from '../../src/shared/traceTypes';

const root = path.resolve(__dirname, '../../..');
const cli = path.join(root, 'dist/cli.js');
const tinyModel = path.join(root, 'test/unit/fixtures/tinyModel.ts');

function layer(index: number, name: string, units = 4): LayerInfo {
  return {
    index,
    name,
    type: 'Dense',
    inputShape: [null, units],
    outputShape: [null, units],
    params: [{ name: 'kernel', shape: [units, units], count: units * units, trainable: true }],
    paramCount: units * units,
    paramFormula: '',
    nativeBackward: true,
  };
}

function metaOf(layers: LayerInfo[]): RunMeta {
  return testRunMeta({ runId: 'diff-test', file: '/x/model.ts', layers, steps: 4, capture: { sampleIndices: [], keyframeEvery: 0, stepBudgetBytes: 0, keyframeBudgetBytes: 0 } });
}

/** A perturbation: at this step, this layer's tensor of this role gets `by` added to every value. */
interface Nudge {
  step: number;
  layer: number;
  role: TensorRole;
  by: number;
}

function tensor(step: number, layerIndex: number, role: TensorRole, nudges: Nudge[], param?: string): TensorSummary {
  const by = nudges.filter((n) => n.step === step && n.layer === layerIndex && n.role === role).reduce((s, n) => s + n.by, 0);
  const values = Float32Array.from({ length: 8 }, (_, i) => Math.sin(step * 7 + layerIndex * 3 + i + role.length) + by);
  return { layer: layerIndex, role, param, shape: [2, 4], stats: summarize(values, [2, 4]) };
}

function record(step: number, layerCount: number, nudges: Nudge[]): StepRecord {
  const summaries: TensorSummary[] = [];
  for (let l = 0; l < layerCount; l++) summaries.push(tensor(step, l, 'preactivation', nudges), tensor(step, l, 'activation', nudges));
  for (let l = layerCount - 1; l >= 0; l--) summaries.push(tensor(step, l, 'gradActivation', nudges), tensor(step, l, 'gradParam', nudges, 'kernel'));
  for (let l = 0; l < layerCount; l++) summaries.push(tensor(step, l, 'param', nudges, 'kernel'), tensor(step, l, 'delta', nudges, 'kernel'));
  const lossNudge = nudges.filter((n) => n.step === step && n.layer === -1).reduce((s, n) => s + n.by, 0);
  return { step, loss: 1 / (step + 1) + lossNudge, stepMs: 1 + Math.random(), keyframe: false, summaries, tensors: [] };
}

function writeRun(layers: LayerInfo[], steps: number, nudges: Nudge[] = []): TraceReader {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gl-diff-'));
  const w = new TraceWriter(dir, metaOf(layers));
  for (let s = 0; s < steps; s++) w.append(record(s, layers.length, nudges));
  w.close({ state: 'finished' });
  return TraceReader.open(dir);
}

const three = () => [layer(0, 'dense_Dense1'), layer(1, 'dense_Dense2'), layer(2, 'dense_Dense3')];

describe('run diff', () => {
  it('the same records: identical, and every change in the table is zero', () => {
    const d = diffRuns(writeRun(three(), 4), writeRun(three(), 4));
    assert.equal(d.identical, true);
    assert.equal(d.firstDivergence, undefined);
    assert.equal(d.sharedSteps, 4);
    assert.equal(d.changes.length, 3 * 6);
    assert.ok(d.changes.every((c) => c.meanShift === 0 && c.stdChange === 0 && c.l2Change === 0 && c.firstDifferentStep === undefined));
  });

  it('names the first divergence in walk order: the step, then forward, loss, backward (last layer first), update', () => {
    const base = writeRun(three(), 4);
    // A later step's forward change must not win over an earlier step's backward change, and
    // within step 2, backward through layer 2 comes before backward through layer 0.
    const edited = writeRun(three(), 4, [
      { step: 3, layer: 0, role: 'activation', by: 1 },
      { step: 2, layer: 0, role: 'gradActivation', by: 0.5 },
      { step: 2, layer: 2, role: 'gradParam', by: 0.25 },
    ]);
    const d = diffRuns(base, edited);
    assert.equal(d.identical, false);
    assert.equal(d.firstDivergence?.step, 2);
    assert.deepEqual(d.firstDivergence?.stop, { phase: 'backward', layer: 2 });
    assert.equal(d.firstDivergence?.where, 'backward · dense_Dense3');
    assert.equal(d.firstDivergence?.differences[0].quantity, '∂L/∂W mean');
    const row = d.changes.find((c) => c.layer === 0 && c.role === 'activation');
    assert.equal(row?.firstDifferentStep, 3);
    assert.equal(row?.atStep, 3);
    assert.ok(row!.meanShift > 0.5, `a shift of 1 in values of spread ~0.7 is a large mean shift (${row?.meanShift})`);
    assert.equal(d.changes.find((c) => c.layer === 1 && c.role === 'activation')?.firstDifferentStep, undefined);
  });

  it('the loss is its own stop, between the forward and the backward pass', () => {
    const d = diffRuns(writeRun(three(), 3), writeRun(three(), 3, [{ step: 1, layer: -1, role: 'activation', by: 1e-3 }, { step: 1, layer: 0, role: 'gradActivation', by: 1 }]));
    assert.equal(d.firstDivergence?.where, 'loss');
    assert.equal(d.firstDivergence?.differences[0].quantity, 'loss');
    assert.equal(d.firstDivergence?.differences[0].a, 0.5);
  });

  it('a tolerance: |a − b| ≤ t · max(1, |a|, |b|) agrees, beyond it differs', () => {
    assert.equal(agrees(1, 1, 0), true);
    assert.equal(agrees(NaN, NaN, 0), true);
    assert.equal(agrees(Infinity, Infinity, 0), true);
    assert.equal(agrees(1, 1 + 1e-12, 0), false);
    assert.equal(agrees(1000, 1000.5, 1e-3), true, 'relative above 1');
    assert.equal(agrees(1000, 1002, 1e-3), false);
    assert.equal(agrees(1e-9, 3e-9, 1e-6), true, 'absolute below 1');
    assert.equal(agrees(0, 2e-6, 1e-6), false);
    assert.equal(agrees(NaN, 1, 1), false);
    const base = writeRun(three(), 2);
    const slightly = writeRun(three(), 2, [{ step: 1, layer: 1, role: 'activation', by: 1e-5 }]);
    assert.equal(diffRuns(base, slightly).identical, false, 'exactly: any change differs');
    assert.equal(diffRuns(base, slightly, { tolerance: 1e-3 }).identical, true);
    const d = diffRuns(base, slightly, { tolerance: 1e-7 });
    assert.equal(d.firstDivergence?.where, 'forward · dense_Dense2');
    assert.throws(() => diffRuns(base, slightly, { tolerance: -1 }), /tolerance must be a finite number ≥ 0/);
  });

  it('a live run: each update compares only the steps recorded since, and agrees with a diff from scratch', () => {
    const base = writeRun(three(), 6);
    const edited = writeRun(three(), 6, [{ step: 2, layer: 1, role: 'gradActivation', by: 0.5 }, { step: 4, layer: 0, role: 'activation', by: 2 }]);
    // The edited run as it grows: its first `recorded` steps, each read counted.
    let recorded = 0;
    const reads: number[] = [];
    const live: DiffableRun = {
      meta: edited.meta,
      get stepCount() {
        return recorded;
      },
      entry: (i) => edited.entry(i),
      readStep: (step) => {
        reads.push(step);
        return edited.readStep(step);
      },
    };
    const differ = new RunDiffer(base, live);
    const snapshots = [];
    for (recorded = 0; recorded <= 6; recorded++) {
      const diff = differ.update();
      const prefix: DiffableRun = { meta: edited.meta, stepCount: recorded, entry: (i) => edited.entry(i), readStep: (s) => edited.readStep(s) };
      assert.deepEqual(diff, diffRuns(base, prefix), `after ${recorded} steps`);
      snapshots.push(diff);
    }
    assert.deepEqual(reads, [0, 1, 2, 3, 4, 5], 'each step of the live run read once');
    assert.equal(snapshots[3].firstDivergence?.step, 2);
    assert.equal(snapshots[6].identical, false);
    // A diff handed out earlier is a snapshot: later steps do not change it.
    assert.equal(snapshots[3].sharedSteps, 3);
    assert.deepEqual(snapshots[3], diffRuns(base, { meta: edited.meta, stepCount: 3, entry: (i) => edited.entry(i), readStep: (s) => edited.readStep(s) }));
  });

  it('the panel\'s comparison starts again from step 0 when the tolerance changes, and only then', () => {
    const base = writeRun(three(), 3);
    const slightly = writeRun(three(), 3, [{ step: 1, layer: 1, role: 'activation', by: 1e-5 }]);
    const comparison = new PanelComparison(slightly, base);
    const exact = comparison.diff;
    assert.equal(exact.identical, false);
    assert.equal(comparison.diff, exact, 'no new steps, same tolerance: the same diff');
    comparison.setTolerance(1e-3);
    assert.equal(comparison.diff.identical, true);
    comparison.setTolerance(0);
    assert.deepEqual(comparison.diff, exact);
    comparison.close();
  });

  it('a long comparison runs in slices: the event loop turns between them, progress is told, and closing stops it', async () => {
    const base = writeRun(three(), 12);
    const other = writeRun(three(), 12, [{ step: 9, layer: 2, role: 'delta', by: 1 }]);
    // Each read takes 8 ms, so twelve steps take several 30 ms slices.
    const slow: DiffableRun = {
      meta: other.meta,
      stepCount: other.stepCount,
      entry: (i) => other.entry(i),
      readStep: (step) => {
        const until = performance.now() + 8;
        while (performance.now() < until);
        return other.readStep(step);
      },
    };
    let ticks = 0;
    let ticking = true;
    const tick = () => {
      ticks++;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const told: number[] = [];
    const diff = await new PanelComparison(slow, base).settle((n) => told.push(n));
    ticking = false;
    assert.deepEqual(diff, diffRuns(base, other));
    assert.ok(ticks >= 2, `the event loop turned ${ticks} times`);
    assert.ok(told.length >= 2 && told.every((n, i) => i === 0 || n > told[i - 1]), `progress ${told.join(', ')}`);
    // The editor's change marks take the same slices.
    const before = ticks;
    ticking = true;
    setImmediate(tick);
    assert.deepEqual(await diffRunsInSlices(base, slow, { maxSteps: 10 }), diffRuns(base, other, { maxSteps: 10 }));
    ticking = false;
    assert.ok(ticks - before >= 2, 'the marks\' diff let the event loop turn too');

    const closing = new PanelComparison(slow, writeRun(three(), 12));
    const settling = closing.settle();
    setImmediate(() => closing.close());
    await assert.rejects(settling, /the comparison was closed/);
  });

  it('maxSteps: only the first shared steps are compared, and such a comparison is never "identical"', () => {
    const base = writeRun(three(), 4);
    const late = writeRun(three(), 4, [{ step: 3, layer: 1, role: 'activation', by: 1 }]);
    const head = diffRuns(base, late, { maxSteps: 3 });
    assert.equal(head.sharedSteps, 3);
    assert.equal(head.firstDivergence, undefined, 'step 3 is past the limit');
    assert.equal(head.identical, false);
    assert.ok(head.notes.includes('compared on the first 3 shared steps only'), head.notes.join('\n'));
    assert.equal(diffRuns(base, late, { maxSteps: 4 }).firstDivergence?.step, 3);
    assert.equal(diffRuns(base, base, { maxSteps: 4 }).identical, true, 'a limit the runs fit in changes nothing');
  });

  it('runs with different layer lists: matched by name and position, the rest reported', () => {
    const withExtra = [layer(0, 'dense_Dense1'), layer(1, 'dropout_Dropout1'), layer(2, 'dense_Dense2'), layer(3, 'dense_Dense3')];
    withExtra[1].type = 'Dropout';
    const m = matchLayers(three(), withExtra);
    assert.deepEqual(m.matched.map((p) => [p.a, p.b]), [[0, 0], [1, 2], [2, 3]]);
    assert.deepEqual(m.onlyB, [{ index: 1, name: 'dropout_Dropout1' }]);
    assert.deepEqual(m.onlyA, []);
    const renamed = [layer(0, 'dense_Dense1'), layer(1, 'hidden'), layer(2, 'dense_Dense3')];
    const r = matchLayers(three(), renamed);
    assert.deepEqual(r.matched.map((p) => [p.a, p.b, p.nameB]), [[0, 0, 'dense_Dense1'], [1, 1, 'hidden'], [2, 2, 'dense_Dense3']], 'same position and shapes: matched');
    const reshaped = [layer(0, 'dense_Dense1'), layer(1, 'hidden', 6), layer(2, 'dense_Dense3')];
    assert.deepEqual(matchLayers(three(), reshaped).onlyA, [{ index: 1, name: 'dense_Dense2' }]);
    const d = diffRuns(writeRun(three(), 2), writeRun(withExtra, 3));
    assert.equal(d.identical, false);
    assert.equal(d.sharedSteps, 2);
    assert.ok(d.notes.some((n) => /steps recorded: 2 vs 3/.test(n)), d.notes.join('\n'));
  });
});

describe('runs to compare with', () => {
  it('the other runs of the same file in a runs folder, newest first; not the run itself, nor other files or non-runs', () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'gl-runs-'));
    const make = (name: string, file: string, createdAt: string) => {
      fs.mkdirSync(path.join(folder, name));
      fs.writeFileSync(path.join(folder, name, 'meta.json'), JSON.stringify({ ...metaOf([]), file, createdAt }));
    };
    make('old', '/x/model.ts', '2026-01-01T10:00:00.000Z');
    make('new', '/x/model.ts', '2026-01-03T10:00:00.000Z');
    make('self', '/x/model.ts', '2026-01-02T10:00:00.000Z');
    make('other-file', '/x/other.ts', '2026-01-04T10:00:00.000Z');
    fs.mkdirSync(path.join(folder, 'not-a-run'));
    fs.mkdirSync(path.join(folder, 'torn-meta'));
    fs.writeFileSync(path.join(folder, 'torn-meta', 'meta.json'), '{"formatVersion": 1, "fi');
    assert.deepEqual(otherRunsOfFile(folder, '/x/model.ts', path.join(folder, 'self')).map((r) => path.basename(r.dir)), ['new', 'old']);
    assert.deepEqual(otherRunsOfFile(path.join(folder, 'missing'), '/x/model.ts', folder), []);
  });

  it('the report document: the verdict, both runs, and the table in a monospaced block', () => {
    const a = writeRun(three(), 3);
    const b = writeRun(three(), 3, [{ step: 1, layer: 1, role: 'activation', by: 0.1 }]);
    const md = runDiffMarkdown(diffRuns(a, b), a, b);
    assert.match(md, /^\*\*First divergence:\*\* step 1, forward · dense_Dense2 \(a mean −?[\d.]+ vs −?[\d.]+\)$/m);
    assert.ok(md.includes(`- **A**: \`${a.dir}\``) && md.includes(`- **B**: \`${b.dir}\``));
    assert.match(md, /```text\n[^]*^dense_Dense2\s+a\s+\S+%/m);
    assert.match(runDiffMarkdown(diffRuns(a, a), a, a), /^\*\*Identical\*\*$/m);
  });
});

function cliRun(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function traceWith(file: string, backend: string, steps = 4): string {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), `gl-diff-${backend}-`));
  const t = cliRun('trace', file, '--steps', String(steps), '--out', out, '--backend', backend, '--quiet', '--no-typecheck');
  assert.equal(t.code, 0, t.err);
  return out;
}

describe('gradient-lens diff', () => {
  for (const backend of ['cpu', 'wasm']) {
    it(`replay on ${backend}: two runs of the same file and seed are identical (exit 0)`, () => {
      const a = traceWith(tinyModel, backend);
      const b = traceWith(tinyModel, backend);
      const r = cliRun('diff', a, b);
      assert.equal(r.code, 0, r.out + r.err);
      assert.match(r.out, /^identical: 4 steps, 2 layers, every captured value equal exactly$/m);
    });
  }

  it('one initialiser changed: the first divergence is step 0, forward through that layer (exit 1)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gl-diff-edit-'));
    const edited = path.join(dir, 'tinyModel.ts');
    const source = fs.readFileSync(tinyModel, 'utf8');
    const changed = source.replace("units: 3, activation: 'softmax'", "units: 3, activation: 'softmax', kernelInitializer: 'heNormal'");
    assert.notEqual(changed, source, 'the fixture still has the line this test edits');
    fs.writeFileSync(edited, changed);
    const a = traceWith(tinyModel, 'cpu');
    const b = traceWith(edited, 'cpu');
    const r = cliRun('diff', a, b);
    assert.equal(r.code, 1, r.out + r.err);
    assert.match(r.out, /^first divergence: step 0, forward · dense_Dense2 \(z mean −?[\d.]+(e−?\d+)? vs −?[\d.]+(e−?\d+)?\)$/m);
    // The first layer's forward pass at step 0 is untouched; it moves from step 1 on, once the
    // changed layer's gradient has reached its weights.
    assert.match(r.out, /^dense_Dense1\s+a\s+\S+\s+\S+\s+\S+\s+\d+\s+1$/m);
    assert.match(r.out, /^dense_Dense2\s+W\s+\S+\s+\S+\s+\S+\s+\d+\s+0$/m);
    const json = cliRun('diff', a, b, '--json');
    const parsed = JSON.parse(json.out) as { firstDivergence: { step: number; stop: { phase: string; layer: number } } };
    assert.deepEqual([parsed.firstDivergence.step, parsed.firstDivergence.stop], [0, { phase: 'forward', layer: 1 }]);
  });

  it('bad input: a located message and exit 2', () => {
    const a = writeRun(three(), 2).dir;
    const missing = cliRun('diff', a);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /missing RUN_B/);
    const badTolerance = cliRun('diff', a, a, '--tolerance', 'lots');
    assert.equal(badTolerance.code, 2);
    assert.match(badTolerance.err, /--tolerance must be a number ≥ 0, got 'lots'/);
    const notATrace = cliRun('diff', a, os.tmpdir());
    assert.equal(notATrace.code, 2);
    assert.match(notATrace.err, /is not a Gradient Lens trace/);
    // A record flipped in the middle: the file it is in, and the step.
    const b = writeRun(three(), 2).dir;
    const data = path.join(b, 'steps.bin');
    const bytes = fs.readFileSync(data);
    bytes[bytes.length - 10] ^= 0xff;
    fs.writeFileSync(data, bytes);
    const corrupt = cliRun('diff', a, b);
    assert.equal(corrupt.code, 2, corrupt.out + corrupt.err);
    assert.ok(corrupt.err.includes(`${data}: the record of step`), corrupt.err);
  });
});
