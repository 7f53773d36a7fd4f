// The editor integration before any run: hover and CodeLens from building the model in the
// runner (on open, cached per version), diagnostics for a file that does not build.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { activateExtension, closeAllEditors, lineOf, repoPath, seedModel, waitFor, fixture } from './helpers';

function hoverText(hovers: vscode.Hover[]): string {
  return hovers
    .flatMap((h) => h.contents)
    .map((c) => (typeof c === 'string' ? c : 'value' in c ? c.value : ''))
    .join('\n');
}

suite('editor: hover, CodeLens, diagnostics', () => {
  suiteSetup(activateExtension);
  suiteTeardown(closeAllEditors);

  test('the hover on the first dense layer says 200,960 parameters, with the formula', async () => {
    const document = await vscode.workspace.openTextDocument(seedModel());
    await vscode.window.showTextDocument(document);
    const line = lineOf(document, /tf\.layers\.dense\(/);
    const column = document.lineAt(line).text.indexOf('dense') + 2;
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', document.uri, new vscode.Position(line, column));
    const text = hoverText(hovers);
    assert.match(text, /200,960 parameters/, text);
    assert.match(text, /784 × 256 weights \+ 256 biases = 200,960/, text);
    assert.match(text, /\*\*Dense\*\*/, text);
    assert.match(text, /\[batch, 256\]/, text);
  });

  test('the hover on a hand-written stage (tap) of a raw-ops model gives its parameters too', async () => {
    const document = await vscode.workspace.openTextDocument(vscode.Uri.file(repoPath('samples', '02-the-perceptron', 'model.ts')));
    const line = lineOf(document, /\btap\(/);
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', document.uri, new vscode.Position(line, document.lineAt(line).text.indexOf('tap(') + 1));
    const text = hoverText(hovers);
    assert.match(text, /\*\*Tap\*\*/, text);
    assert.match(text, /785 parameters/, text);
  });

  test('no hover on a line that builds no layer', async () => {
    const document = await vscode.workspace.openTextDocument(seedModel());
    const line = lineOf(document, /optimizer:/);
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', document.uri, new vscode.Position(line, 6));
    assert.doesNotMatch(hoverText(hovers), /parameters/);
  });

  test('the CodeLens above the model says ▶ Trace · 235,146 params and traces the file', async () => {
    const document = await vscode.workspace.openTextDocument(seedModel());
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', document.uri, 10);
    const ours = lenses.filter((l) => l.command?.command === 'gradientLens.traceFile');
    assert.equal(ours.length, 1, JSON.stringify(lenses.map((l) => l.command?.title)));
    assert.equal(ours[0].command?.title, '▶ Trace · 235,146 params');
    assert.equal(ours[0].range.start.line, lineOf(document, /tf\.sequential\(/));
    assert.equal((ours[0].command?.arguments?.[0] as vscode.Uri).fsPath, document.uri.fsPath);
  });

  test('a model file that throws shows its error in Problems at its line', async () => {
    const broken = fixture('broken-model.ts');
    const document = await vscode.workspace.openTextDocument(broken);
    await vscode.window.showTextDocument(document);
    const throwLine = lineOf(document, /throw new Error/);
    const diagnostics = await waitFor(
      'a Gradient Lens error in broken-model.ts',
      () => {
        const found = vscode.languages.getDiagnostics(broken).filter((d) => d.source === 'Gradient Lens');
        return found.length > 0 ? found : undefined;
      },
      { event: vscode.languages.onDidChangeDiagnostics, timeoutMs: 60_000 },
    );
    assert.equal(diagnostics[0].severity, vscode.DiagnosticSeverity.Error);
    assert.match(diagnostics[0].message, /broken on purpose/);
    assert.equal(diagnostics[0].range.start.line, throwLine, `error at line ${diagnostics[0].range.start.line + 1}, expected ${throwLine + 1}`);
  });
});
