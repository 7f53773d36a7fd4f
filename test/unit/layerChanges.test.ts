// The editor's marks after a rerun: which layers changed most against the previous run (run
// diff's per-tensor table folded per layer, in the rerun's numbering), and what the mark says.
// Then for real: a file rerun with one initialiser changed marks the edited layer's line.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { changeText, layerChanges, layersChangedMost } from '../../src/trace/layerChanges';
import { diffRuns } from '../../src/trace/runDiff';
import type { RunDiff, TensorChange } from '../../src/trace/runDiff';
import { TraceReader } from '../../src/trace/traceReader';

const root = path.resolve(__dirname, '../../..');

function row(layer: number, layerName: string, label: string, change: Partial<TensorChange>): TensorChange {
  return { layer, layerName, role: 'activation', label, meanShift: 0, stdChange: 0, l2Change: 0, atStep: 0, ...change };
}

/** A diff of a 3-layer baseline (A) against a rerun (B) with a layer inserted at index 1. */
function diffOf(changes: TensorChange[]): RunDiff {
  return {
    identical: false,
    tolerance: 0,
    stepsA: 4,
    stepsB: 4,
    sharedSteps: 4,
    layers: {
      matched: [
        { a: 0, b: 0, nameA: 'dense_Dense1', nameB: 'dense_Dense1' },
        { a: 1, b: 2, nameA: 'dense_Dense2', nameB: 'dense_Dense2' },
        { a: 2, b: 3, nameA: 'dense_Dense3', nameB: 'dense_Dense3' },
      ],
      onlyA: [],
      onlyB: [{ index: 1, name: 'dropout_Dropout1' }],
    },
    changes,
    metrics: [],
    notes: [],
  };
}

describe('editor marks after a rerun: which layers changed most', () => {
  const changes = [
    row(0, 'dense_Dense1', 'a', { meanShift: 0.004, stdChange: 0.002, l2Change: 0.003, atStep: 3, firstDifferentStep: 1 }),
    row(1, 'dense_Dense2', 'a', { meanShift: 0.2, stdChange: 0.05, l2Change: 0.1, atStep: 1, firstDifferentStep: 0 }),
    row(1, 'dense_Dense2', '∂L/∂W', { meanShift: 0.1, stdChange: 0.3, l2Change: 0.38, atStep: 2, firstDifferentStep: 1 }),
    row(2, 'dense_Dense3', 'a', { meanShift: 0.05, stdChange: 0.07, l2Change: 0.02, atStep: 3, firstDifferentStep: 1 }),
    // The loss's own tensors belong to no layer line.
    row(-1, 'loss', '∂L/∂a', { meanShift: 5, stdChange: 5, l2Change: 5, atStep: 0, firstDifferentStep: 0 }),
  ];

  it('one figure per layer: its tensor and statistic that moved most, in the rerun’s numbering', () => {
    const all = layerChanges(diffOf(changes));
    assert.deepEqual(
      all.map((c) => [c.layer, c.layerName, c.what, c.change, c.atStep, c.firstDifferentStep]),
      [
        [2, 'dense_Dense2', '∂L/∂W ‖·‖', 0.38, 2, 0],
        [3, 'dense_Dense3', 'a std', 0.07, 3, 1],
        [0, 'dense_Dense1', 'a mean', 0.004, 3, 1],
      ],
    );
    assert.equal(changeText(all[0]), 'Δ vs previous run: ∂L/∂W ‖·‖ 38.0% (step 2)');
  });

  it('marks only changes above the threshold, at most `max` lines', () => {
    const diff = diffOf(changes);
    assert.deepEqual(layersChangedMost(diff).map((c) => c.layerName), ['dense_Dense2', 'dense_Dense3'], 'dense_Dense1 moved 0.4%: below 1%');
    assert.deepEqual(layersChangedMost(diff, { max: 1 }).map((c) => c.layerName), ['dense_Dense2']);
    assert.deepEqual(layersChangedMost(diff, { threshold: 0.001 }).map((c) => c.layerName), ['dense_Dense2', 'dense_Dense3', 'dense_Dense1']);
    assert.deepEqual(layersChangedMost(diffOf([])), [], 'an identical rerun marks nothing');
  });

  it('a change from or to zero (Infinity) ranks first; equal changes: the layer that differed first', () => {
    const diff = diffOf([
      row(0, 'dense_Dense1', 'a', { l2Change: 0.5, firstDifferentStep: 2 }),
      row(2, 'dense_Dense3', 'a', { l2Change: 0.5, firstDifferentStep: 0 }),
      row(1, 'dense_Dense2', 'ΔW', { stdChange: Infinity, firstDifferentStep: 3 }),
    ]);
    assert.deepEqual(layersChangedMost(diff).map((c) => c.layerName), ['dense_Dense2', 'dense_Dense3', 'dense_Dense1']);
    assert.equal(changeText(layerChanges(diff)[0]), 'Δ vs previous run: ΔW std ∞ (step 0)');
  });

  it('for real: a file rerun with one initialiser changed marks the edited layer, and an unchanged rerun marks nothing', function () {
    this.timeout(120_000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gl-marks-'));
    const file = path.join(dir, 'model.ts');
    const source = fs.readFileSync(path.join(root, 'test/unit/fixtures/tinyModel.ts'), 'utf8');
    const trace = (text: string) => {
      fs.writeFileSync(file, text);
      const out = fs.mkdtempSync(path.join(dir, 'run-'));
      const r = spawnSync(process.execPath, [path.join(root, 'dist/cli.js'), 'trace', file, '--steps', '4', '--out', out, '--backend', 'cpu', '--quiet', '--no-typecheck'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
      assert.equal(r.status, 0, r.stderr);
      return TraceReader.open(out);
    };
    const before = trace(source);
    const again = trace(source);
    const edited = trace(source.replace("units: 3, activation: 'softmax'", "units: 3, activation: 'softmax', kernelInitializer: 'heNormal'"));
    try {
      assert.deepEqual(layersChangedMost(diffRuns(before, again)), []);
      const marks = layersChangedMost(diffRuns(before, edited));
      const editedLayer = edited.meta.model.layers[1];
      assert.equal(marks[0]?.layer, 1, `the edited layer first: ${marks.map((m) => `${m.layerName} ${changeText(m)}`).join('; ')}`);
      assert.equal(marks[0].firstDifferentStep, 0);
      // The mark goes on the line the edited layer was built on.
      assert.equal(editedLayer.location?.line, source.split('\n').findIndex((l) => l.includes("units: 3, activation: 'softmax'")) + 1);
    } finally {
      before.close();
      again.close();
      edited.close();
    }
  });
});
