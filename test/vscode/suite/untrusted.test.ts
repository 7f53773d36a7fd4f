// In a workspace that is not trusted (run.mjs starts a second code-server with workspace trust
// on and a fresh profile): the extension activates in limited mode and refuses to run code.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { RunSession } from '../../../src/extension/runSession';
import { activateExtension, lineOf, seedModel } from './helpers';

suite('untrusted workspace', () => {
  suiteSetup(activateExtension);

  test('the workspace really is untrusted here', () => {
    assert.equal(vscode.workspace.isTrusted, false);
  });

  test('Trace This File and Run Lesson refuse: no run, no runner', async () => {
    const api = await activateExtension();
    await vscode.window.showTextDocument(seedModel());
    const traced = await vscode.commands.executeCommand<RunSession | undefined>('gradientLens.traceFile', seedModel());
    assert.equal(traced, undefined);
    const lesson = await vscode.commands.executeCommand<RunSession | undefined>('gradientLens.runLesson', '01-what-is-a-neural-network');
    assert.equal(lesson, undefined);
    assert.equal(api.sessions().length, 0);
  });

  test('the model is not built for hovers and CodeLens (that runs the file too)', async () => {
    const document = await vscode.workspace.openTextDocument(seedModel());
    const line = lineOf(document, /tf\.layers\.dense\(/);
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', document.uri, new vscode.Position(line, document.lineAt(line).text.indexOf('dense') + 2));
    const text = hovers.flatMap((h) => h.contents).map((c) => (typeof c === 'string' ? c : 'value' in c ? c.value : '')).join('\n');
    assert.doesNotMatch(text, /parameters/);
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', document.uri, 10);
    const ours = lenses.filter((l) => l.command?.command === 'gradientLens.traceFile');
    assert.equal(ours.length, 1);
    assert.equal(ours[0].command?.title, '▶ Trace');
    assert.match(ours[0].command?.tooltip ?? '', /Trust this workspace/);
  });
});
