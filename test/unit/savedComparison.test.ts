// A reloaded panel's saved comparison: what the state may hold, and the host's check of the
// baseline folder before it opens it (inside the workspace's runs folder or a run the user chose;
// a deleted baseline is said as such; a link out of the runs folder and a relative path refused).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkSavedComparison, savedComparison } from '../../src/extension/savedComparison';

describe('saved comparison (panel reload)', function () {
  let root: string;
  let runs: string;
  const traceFolder = (dir: string) => {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'meta.json'), '{}');
    return dir;
  };

  beforeEach(function () {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'gl-saved-compare-'));
    runs = path.join(root, 'workspace', '.gradient-lens', 'runs');
  });
  afterEach(function () {
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('reads the baseline and tolerance from a saved state; a bad tolerance becomes 0, a state without one none', function () {
    assert.deepEqual(savedComparison({ runDir: '/r', step: 0, compare: { baselineDir: '/b', tolerance: 0.25 } }), { baselineDir: '/b', tolerance: 0.25 });
    assert.deepEqual(savedComparison({ compare: { baselineDir: '/b', tolerance: -1 } }), { baselineDir: '/b', tolerance: 0 });
    assert.deepEqual(savedComparison({ compare: { baselineDir: '/b', tolerance: 'lots' } }), { baselineDir: '/b', tolerance: 0 });
    assert.equal(savedComparison({ runDir: '/r', step: 0 }), undefined);
    assert.equal(savedComparison({ compare: { baselineDir: 42 } }), undefined);
    assert.equal(savedComparison(null), undefined);
  });

  it('restores a trace folder inside the runs folder, with the saved tolerance', function () {
    const a = traceFolder(path.join(runs, 'model-1'));
    assert.deepEqual(checkSavedComparison({ baselineDir: a, tolerance: 0.5 }, { runsFolders: [runs], chosen: [] }), { kind: 'restore', baselineDir: a, tolerance: 0.5 });
  });

  it('restores a run the user chose outside the runs folder, and only that folder', function () {
    const chosen = traceFolder(path.join(root, 'elsewhere', 'run-7'));
    const sibling = traceFolder(path.join(root, 'elsewhere', 'run-8'));
    const trusted = { runsFolders: [runs], chosen: [chosen] };
    assert.equal(checkSavedComparison({ baselineDir: chosen, tolerance: 0 }, trusted).kind, 'restore');
    const other = checkSavedComparison({ baselineDir: sibling, tolerance: 0 }, trusted);
    assert.equal(other.kind, 'notice');
    assert.equal(other.kind === 'notice' && other.notice, `The comparison was not restored: ${sibling} is not in this workspace's runs folder, nor a run you chose.`);
  });

  it('a baseline deleted since: "no longer exists", not an error', function () {
    const gone = traceFolder(path.join(runs, 'model-2'));
    fs.rmSync(gone, { recursive: true });
    const check = checkSavedComparison({ baselineDir: gone, tolerance: 0 }, { runsFolders: [runs], chosen: [] });
    assert.deepEqual(check, { kind: 'notice', notice: `The baseline run no longer exists: ${gone}`, reason: `saved baseline ${gone} is gone` });
  });

  it('refuses a folder that is not a trace, a relative path, ../ out of the runs folder and a link out of it', function () {
    const trusted = { runsFolders: [runs], chosen: [] };
    fs.mkdirSync(path.join(runs, 'not-a-trace'), { recursive: true });
    // Inside and present, but no meta.json: not a run (said as gone, never opened).
    assert.equal(checkSavedComparison({ baselineDir: path.join(runs, 'not-a-trace'), tolerance: 0 }, trusted).kind, 'notice');
    const relative = checkSavedComparison({ baselineDir: 'runs/model-1', tolerance: 0 }, trusted);
    assert.match(relative.kind === 'notice' ? relative.notice : '', /is not an absolute path\.$/);
    const outside = traceFolder(path.join(root, 'secret'));
    const dotted = checkSavedComparison({ baselineDir: `${runs}/../../../secret`, tolerance: 0 }, trusted);
    assert.match(dotted.kind === 'notice' ? dotted.notice : '', /is not in this workspace's runs folder/);
    assert.match(checkSavedComparison({ baselineDir: runs, tolerance: 0 }, trusted).kind, /notice/, 'the runs folder itself is not a run');
    fs.symlinkSync(outside, path.join(runs, 'link'));
    const linked = checkSavedComparison({ baselineDir: path.join(runs, 'link'), tolerance: 0 }, trusted);
    assert.match(linked.kind === 'notice' ? linked.notice : '', /is a link out of this workspace's runs folder\.$/);
  });
});
