// Compare in the real extension host: a model file is traced, edited (one initialiser changed)
// in its editor and traced again. The rerun marks the edited layer's line (and its hover says
// by how much it changed), and "Compare with…" the previous run opens the compare view in the
// rerun's panel with the first divergence at step 0, forward through the edited layer.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { GradientLensApi } from '../../../src/extension/extension';
import { checkSavedComparison } from '../../../src/extension/savedComparison';
import type { RunSession } from '../../../src/extension/runSession';
import type { RunDiff } from '../../../src/trace/runDiff';
import { activateExtension, closeAllEditors, lineOf, unitFixture, waitFor, waitForSession } from './helpers';
import { testConfig } from './testConfig';

const OUTPUT_LAYER = "units: 3, activation: 'softmax'";

suite('compare: a rerun after an edit', () => {
  let api: GradientLensApi;
  let file: vscode.Uri;
  suiteSetup(async () => {
    api = await activateExtension();
    await vscode.workspace.getConfiguration('gradientLens').update('steps', 4, vscode.ConfigurationTarget.Global);
    const dir = path.join(testConfig().workDir, 'compare');
    fs.mkdirSync(dir, { recursive: true });
    file = vscode.Uri.file(path.join(dir, 'model.ts'));
    fs.copyFileSync(unitFixture('tinyModel.ts').fsPath, file.fsPath);
  });
  suiteTeardown(async () => {
    await vscode.workspace.getConfiguration('gradientLens').update('steps', undefined, vscode.ConfigurationTarget.Global);
    await closeAllEditors();
  });

  async function trace(): Promise<RunSession> {
    const session = await vscode.commands.executeCommand<RunSession | undefined>('gradientLens.traceFile', file);
    assert.ok(session, 'no session');
    await waitForSession(session, 'the run to finish', () => session.state === 'finished', 120_000);
    return session;
  }

  test('the edited layer’s line is marked, its hover says the change, and Compare with… names step 0 there', async () => {
    const editor = await vscode.window.showTextDocument(file, { viewColumn: vscode.ViewColumn.One });
    const first = await trace();
    assert.deepEqual(api.changeMarks(editor.document), [], 'a first run has nothing to compare with');
    const line = lineOf(editor.document, new RegExp(OUTPUT_LAYER.replace(/[()]/g, '\\$&')));
    const at = editor.document.lineAt(line).text.indexOf(OUTPUT_LAYER) + OUTPUT_LAYER.length;
    // Edited in the editor, as a user would: Trace This File saves it.
    await editor.edit((e) => e.insert(new vscode.Position(line, at), ", kernelInitializer: 'heNormal'"));
    const rerun = await trace();
    assert.notEqual(rerun.runDir, first.runDir);

    const marks = await waitFor('the rerun’s marks', () => {
      const m = api.changeMarks(editor.document);
      return m.length > 0 ? m : undefined;
    });
    assert.equal(marks[0].range.start.line, line, `marked lines: ${marks.map((m) => m.range.start.line + 1).join(', ')}`);
    assert.match(marks[0].renderOptions?.after?.contentText ?? '', /^Δ vs previous run: \S+ (mean|std|‖·‖) [\d.]+% \(step \d\)$/);

    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', file, new vscode.Position(line, editor.document.lineAt(line).text.indexOf('dense') + 2));
    const hoverText = hovers.flatMap((h) => h.contents).map((c) => (typeof c === 'string' ? c : 'value' in c ? c.value : '')).join('\n');
    // The hover's Markdown escapes the text's punctuation (names come from user code).
    assert.match(hoverText.replace(/\\(.)/g, '$1'), /Δ vs previous run: \S+ (mean|std|‖·‖) [\d.]+% \(step \d\) · first differs at step 0/, hoverText);

    const diff = await vscode.commands.executeCommand<RunDiff | undefined>('gradientLens.compareWith', rerun.runDir, first.runDir);
    assert.ok(diff, 'no comparison');
    assert.equal(diff.firstDivergence?.step, 0);
    assert.deepEqual(diff.firstDivergence?.stop, { phase: 'forward', layer: 1 });

    // After a window reload the panel's saved baseline is checked against the real runs folder
    // and the runs the user chose: the previous run is restored; a copy elsewhere only once chosen.
    const trusted = () => api.trustedBaselines(rerun);
    assert.deepEqual(checkSavedComparison({ baselineDir: first.runDir, tolerance: 0.1 }, trusted()), { kind: 'restore', baselineDir: path.resolve(first.runDir), tolerance: 0.1 });
    const elsewhere = path.join(testConfig().workDir, 'elsewhere', path.basename(first.runDir));
    fs.cpSync(first.runDir, elsewhere, { recursive: true });
    assert.equal(checkSavedComparison({ baselineDir: elsewhere, tolerance: 0 }, trusted()).kind, 'notice', 'not chosen yet');
    assert.ok(await vscode.commands.executeCommand<RunDiff | undefined>('gradientLens.compareWith', rerun.runDir, elsewhere));
    assert.equal(checkSavedComparison({ baselineDir: elsewhere, tolerance: 0 }, trusted()).kind, 'restore', 'chosen with Compare with…');
    const gone = path.join(path.dirname(first.runDir), 'deleted-run');
    assert.deepEqual(checkSavedComparison({ baselineDir: gone, tolerance: 0 }, trusted()), { kind: 'notice', notice: `The baseline run no longer exists: ${gone}`, reason: `saved baseline ${gone} is gone` });
  });
});
