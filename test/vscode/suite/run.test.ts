// Runs through the commands, in the real extension host: Trace This File on the seed model, live
// stepping like a debugger, Stop, and reopening the recording.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { GradientLensApi } from '../../../src/extension/extension';
import type { RunSession } from '../../../src/extension/runSession';
import { activateExtension, closeAllEditors, lineOf, processAlive, seedModel, waitFor, waitForSession, fixture, unitFixture } from './helpers';
import { testConfig } from './testConfig';

async function setSetting(key: string, value: unknown): Promise<void> {
  await vscode.workspace.getConfiguration('gradientLens').update(key, value, vscode.ConfigurationTarget.Global);
}

function panelTabs(): { tab: vscode.Tab; group: vscode.TabGroup }[] {
  return vscode.window.tabGroups.all.flatMap((group) =>
    group.tabs.filter((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith('gradientLens.panel')).map((tab) => ({ tab, group })),
  );
}

suite('runs', () => {
  let api: GradientLensApi;
  suiteSetup(async () => {
    api = await activateExtension();
  });
  suiteTeardown(async () => {
    await setSetting('wasmThreads', undefined);
    await setSetting('startPaused', undefined);
    await setSetting('steps', undefined);
    await closeAllEditors();
  });

  let finished: RunSession;

  test('Trace This File on the seed model records a run and opens the panel beside the code', async () => {
    await vscode.window.showTextDocument(seedModel(), { viewColumn: vscode.ViewColumn.One });
    const session = await vscode.commands.executeCommand<RunSession | undefined>('gradientLens.traceFile');
    assert.ok(session, 'no session');
    assert.equal(api.activeSession(), session);
    assert.equal(session.meta.model.totalParams, 235146);
    assert.ok(session.runDir.startsWith(testConfig().runsDir), `${session.runDir} is not in the test's trace folder`);
    const state = await waitForSession(session, 'the run to finish', () => (session.state === 'finished' ? session.state : undefined), 120_000);
    assert.equal(state, 'finished');
    for (const f of ['meta.json', 'steps.bin', 'index.bin', 'end.json']) assert.ok(fs.existsSync(path.join(session.runDir, f)), `${f} missing`);
    const meta = JSON.parse(fs.readFileSync(path.join(session.runDir, 'meta.json'), 'utf8'));
    assert.equal(meta.model.totalParams, 235146);
    assert.equal(session.stepCount, meta.config.steps);
    assert.equal(session.reader.readStep(session.lastStep).step, session.lastStep);
    // Its runner is gone once the run is over.
    await session.runnerExited;
    // The panel is open in another editor group than the model's.
    const tabs = await waitFor('the panel tab', () => (panelTabs().length > 0 ? panelTabs() : undefined));
    const modelGroup = vscode.window.tabGroups.all.find((g) => g.tabs.some((t) => t.input instanceof vscode.TabInputText && t.input.uri.fsPath === seedModel().fsPath));
    assert.ok(modelGroup);
    assert.notEqual(tabs[0].group.viewColumn, modelGroup.viewColumn, 'the panel is not beside the code');
    await waitFor('the status bar to show the finished run', () => /finished · step \d+ · loss [\d.]+ · (wasm|cpu|tensorflow)/.test(api.statusText()));
    finished = session;
  });

  test('inline values after each layer line show the shape, mean and dead fraction', async () => {
    const document = await vscode.workspace.openTextDocument(seedModel());
    const { values } = api.inlineDecorations(finished, document);
    assert.equal(values.length, 3);
    const first = values[0].renderOptions?.after?.contentText ?? '';
    assert.match(first, /^[-\d.e+]+ ± [-\d.e+]+ · \d+% dead/);
    assert.equal(document.lineAt(values[0].range.start.line).text.includes('tf.layers.dense('), true);
  });

  test('the hover adds the current step\'s statistics once the file has a run', async () => {
    const document = await vscode.workspace.openTextDocument(seedModel());
    const line = lineOf(document, /tf\.layers\.dense\(/);
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', document.uri, new vscode.Position(line, document.lineAt(line).text.indexOf('dense') + 2));
    const text = hovers.flatMap((h) => h.contents).map((c) => (typeof c === 'string' ? c : 'value' in c ? c.value : '')).join('\n');
    assert.match(text, new RegExp(`Step ${finished.lastStep} · loss [\\d.]+`), text);
    assert.match(text, /activation mean \| [-−\d.e+]+ \|/, text);
    assert.match(text, /activation dead \| \d+% \|/, text);
  });

  test('training pathologies appear in Problems on the responsible layer\'s line, with what to try', async () => {
    const file = fixture('dead-relu-model.ts');
    const document = await vscode.workspace.openTextDocument(file);
    await vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.One });
    const session = await vscode.commands.executeCommand<RunSession | undefined>('gradientLens.traceFile', file);
    assert.ok(session);
    await waitForSession(session, 'the run to finish', () => session.state === 'finished', 60_000);
    const hidden = lineOf(document, /biasInitializer/);
    const warnings = await waitFor('a dead-units warning', () => {
      const found = vscode.languages.getDiagnostics(file).filter((d) => d.source === 'Gradient Lens' && d.code === 'dead-units');
      return found.length > 0 ? found : undefined;
    }, { event: vscode.languages.onDidChangeDiagnostics });
    assert.equal(warnings[0].severity, vscode.DiagnosticSeverity.Warning);
    assert.equal(warnings[0].range.start.line, hidden);
    assert.match(warnings[0].message, /mostly dead units at step 2\. .*He initialisation, or LeakyReLU/);
  });

  test('a runner busy in the user\'s code between steps is said in the status bar, and Stop ends it', async () => {
    await setSetting('startPaused', false);
    const file = unitFixture('faults/loopInData.ts');
    await vscode.window.showTextDocument(file, { viewColumn: vscode.ViewColumn.One });
    const session = await vscode.commands.executeCommand<RunSession | undefined>('gradientLens.traceFile', file);
    assert.ok(session);
    const pid = session.pid;
    // run.mjs sets GRADIENT_LENS_STALL_MS low for the repository's servers; the installed pass waits the default 10 s.
    const text = await waitFor('the stall in the status bar', () => (/no progress for \d+ s/.test(api.statusText()) ? api.statusText() : undefined), { timeoutMs: 60_000 });
    assert.match(text, /running · \$\(watch\) no progress for \d+ s/);
    assert.ok(session.stall, 'the session has no stall notice');
    assert.match(session.stall.message, /no step has completed/);
    await session.stop();
    await session.runnerExited;
    assert.ok(pid !== undefined && !processAlive(pid), 'the busy runner survived Stop');
    assert.equal(session.stall, undefined, 'a stopped run is not stalled');
  });

  test('stepping commands move a live run; Step Back walks the recording; Stop leaves no runner', async () => {
    await setSetting('startPaused', true);
    await setSetting('steps', 50);
    await vscode.window.showTextDocument(seedModel(), { viewColumn: vscode.ViewColumn.One });
    const session = await vscode.commands.executeCommand<RunSession | undefined>('gradientLens.traceFile', seedModel());
    assert.ok(session);
    const pid = session.pid;
    assert.ok(pid !== undefined && processAlive(pid), 'the runner is not running');

    // Held before the first phase, like "stop on entry".
    await waitForSession(session, 'the run to hold at entry', () => session.state === 'paused' && session.atPhase);
    assert.equal(session.stepCount, 0);

    // Step Phase: the runner moves to the first layer's forward phase.
    await vscode.commands.executeCommand('gradientLens.stepPhase');
    const at = await waitForSession(session, 'forward phase of layer 0', () => session.atPhase?.phase === 'forward' && session.atPhase.layer === 0 && session.atPhase);
    assert.equal(at.step, 0);
    await vscode.commands.executeCommand('gradientLens.stepPhase');
    await waitForSession(session, 'forward phase of layer 1', () => session.atPhase?.layer === 1);

    // Step Batch: runs to the end of the step (held at its update, before it is recorded).
    await vscode.commands.executeCommand('gradientLens.stepBatch');
    await waitForSession(session, 'the update of step 0', () => session.atPhase?.phase === 'update' && session.atPhase.step === 0);
    assert.equal(session.stepCount, 0);
    await vscode.commands.executeCommand('gradientLens.stepBatch');
    await waitForSession(session, 'the update of step 1', () => session.atPhase?.phase === 'update' && session.atPhase.step === 1);
    await vscode.commands.executeCommand('gradientLens.stepBatch');
    await waitForSession(session, 'the update of step 2', () => session.atPhase?.phase === 'update' && session.atPhase.step === 2);
    // Records are written by the runner's capture worker: step 1's may land just after the hold.
    await waitForSession(session, 'steps 0 and 1 recorded', () => session.stepCount === 2);

    // The worker's record of step 1 may arrive after the hold at step 2: it must not end the hold.
    assert.deepEqual(session.atPhase && [session.atPhase.step, session.atPhase.phase], [2, 'update'], 'a late record ended the hold');
    const recorded = session.stepCount;

    // Step Back: through the phases the held step has run, then into the recording, one phase at a
    // time; the runner does not move.
    assert.equal(session.inHistory, false);
    await vscode.commands.executeCommand('gradientLens.stepBack');
    assert.equal(session.inHistory, true);
    assert.deepEqual(session.cursor, { step: 2, phaseIndex: 6 }); // 3 forward + loss + 3 backward + update = 8 stops; one back from the last
    await waitFor('the status bar to say the editor shows history', () => /\(history\)/.test(api.statusText()));
    for (let i = 0; i < 7; i++) await vscode.commands.executeCommand('gradientLens.stepBack');
    assert.deepEqual(session.cursor, { step: 1, phaseIndex: 7 });
    assert.equal(session.recordAtCursor()?.step, 1, 'step 1 is read from the recording');
    assert.equal(session.stepCount, recorded);
    // Step Phase walks forward through the recording into the held step; Step Batch past the held
    // step follows the run again.
    await vscode.commands.executeCommand('gradientLens.stepPhase');
    assert.deepEqual(session.cursor, { step: 2, phaseIndex: 0 });
    assert.equal(session.inHistory, true);
    await vscode.commands.executeCommand('gradientLens.stepBatch');
    assert.equal(session.inHistory, false);
    assert.deepEqual(session.cursor, { step: 2, phaseIndex: 7 });
    assert.deepEqual(session.atPhase && [session.atPhase.step, session.atPhase.phase], [2, 'update'], 'walking the recording moved the runner');

    // Run to Step 5: the runner runs and holds at step 5's update.
    await vscode.commands.executeCommand('gradientLens.runToStep', 5);
    await waitForSession(session, 'the update of step 5', () => session.atPhase?.phase === 'update' && session.atPhase.step === 5, 60_000);
    await waitForSession(session, 'steps 0–4 recorded', () => session.stepCount === 5);

    // Continue, then Pause: it holds at the next phase boundary.
    await vscode.commands.executeCommand('gradientLens.continue');
    await waitForSession(session, 'running', () => session.state === 'running' || session.stepCount > 5);
    await vscode.commands.executeCommand('gradientLens.pause');
    await waitForSession(session, 'paused again', () => session.state === 'paused' && session.atPhase);

    // Stop: the run ends as stopped and its process is gone.
    await vscode.commands.executeCommand('gradientLens.stop');
    await session.runnerExited;
    await waitFor(`runner ${pid} to be gone`, () => !processAlive(pid), { timeoutMs: 10_000 });
    assert.ok(['stopped', 'finished'].includes(session.state), session.state);
    assert.equal(session.live, false);
    // What was recorded stays readable.
    assert.ok(session.stepCount >= 5);
    session.reader.readStep(4);
  });

  test('closing the panel of a live run kills its runner', async () => {
    await closeAllEditors();
    await setSetting('startPaused', true);
    const session = await vscode.commands.executeCommand<RunSession | undefined>('gradientLens.traceFile', seedModel());
    assert.ok(session);
    const pid = session.pid!;
    await waitForSession(session, 'paused at entry', () => session.state === 'paused');
    const tab = await waitFor('the panel tab', () => panelTabs()[0]?.tab);
    assert.ok(await vscode.window.tabGroups.close(panelTabs().map((t) => t.tab)), 'the panel did not close');
    assert.ok(tab);
    await waitFor('the session to end with its panel', () => !api.sessions().includes(session));
    await waitFor(`runner ${pid} to be gone`, () => !processAlive(pid), { timeoutMs: 10_000 });
    assert.ok(!api.sessions().includes(session));
  });

  test('Open Trace… reopens a recorded run, without a runner', async () => {
    const session = await vscode.commands.executeCommand<RunSession | undefined>('gradientLens.openTrace', finished.runDir);
    assert.ok(session);
    assert.equal(session.live, false);
    assert.equal(session.pid, undefined);
    assert.equal(session.state, 'finished');
    assert.equal(session.stepCount, finished.stepCount);
    await waitFor('the reopened panel', () => panelTabs().length > 0);
    // Stepping a recording walks it.
    const before = session.cursor!;
    await vscode.commands.executeCommand('gradientLens.stepBack');
    assert.deepEqual(session.cursor, { step: before.step, phaseIndex: before.phaseIndex - 1 });
  });

  test('with gradientLens.wasmThreads 2 the run uses a pool of two threads and records what one thread does', async () => {
    await closeAllEditors();
    await setSetting('startPaused', undefined);
    await setSetting('steps', 8);
    const traced = async (threads: number): Promise<RunSession> => {
      await setSetting('wasmThreads', threads);
      const session = await vscode.commands.executeCommand<RunSession | undefined>('gradientLens.traceFile', seedModel());
      assert.ok(session);
      await waitForSession(session, 'the run to finish', () => (session.state === 'finished' ? session.state : undefined), 120_000);
      await session.runnerExited;
      return session;
    };
    // What a run recorded, read while it is still this window's: the second run of the same file
    // takes over the first one's tab, which ends the first run and closes its trace.
    const recorded = (session: RunSession) =>
      Array.from({ length: session.stepCount }, (_, step) => {
        const r = session.reader.readStep(step);
        return { loss: r.loss, norms: r.summaries.map((t) => t.stats?.l2) };
      });
    try {
      const one = await traced(1);
      assert.equal(one.meta.backend.name, 'wasm', 'these tests run on wasm');
      assert.equal(one.meta.backend.threads, 1);
      const byOne = recorded(one);
      const two = await traced(2);
      assert.equal(two.meta.backend.threads, 2, 'the trace says the pool it ran on');
      const byTwo = recorded(two);
      assert.equal(byTwo.length, 8);
      assert.equal(byTwo.length, byOne.length);
      for (let step = 0; step < byTwo.length; step++) {
        assert.equal(byTwo[step].loss, byOne[step].loss, `step ${step}'s loss`);
        assert.deepEqual(byTwo[step].norms, byOne[step].norms, `step ${step}'s tensors`);
      }
    } finally {
      await setSetting('wasmThreads', undefined);
      await setSetting('steps', undefined);
    }
  });
});
