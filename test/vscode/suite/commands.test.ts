import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { activateExtension, manifest } from './helpers';

suite('commands', () => {
  suiteSetup(activateExtension);

  test('every command in the manifest is registered, under the Gradient Lens category', async () => {
    const registered = new Set(await vscode.commands.getCommands(true));
    const contributed = manifest().contributes.commands;
    assert.ok(contributed.length >= 10, `only ${contributed.length} commands contributed`);
    for (const c of contributed) {
      assert.ok(registered.has(c.command), `${c.command} is not registered`);
      assert.equal(c.category, 'Gradient Lens', `${c.command} has category ${c.category}`);
    }
  });
});
