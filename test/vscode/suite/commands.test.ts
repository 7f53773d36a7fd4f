import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { activateExtension, manifest, repoPath } from './helpers';

interface FullManifest {
  icon: string;
  contributes: {
    commands: { command: string }[];
    keybindings: { command: string; key: string; when: string }[];
    configuration: { properties: Record<string, { description?: string; markdownDescription?: string }> };
    walkthroughs: { steps: { id: string; media: { markdown?: string; image?: string } }[] }[];
  };
}

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

  test('keybindings name contributed commands and only apply while a run exists, outside debugging', () => {
    const m = manifest() as unknown as FullManifest;
    const ids = new Set(m.contributes.commands.map((c) => c.command));
    assert.ok(m.contributes.keybindings.length >= 5);
    for (const k of m.contributes.keybindings) {
      assert.ok(ids.has(k.command), k.command);
      assert.match(k.when, /gradientLens\.(runActive|hasRun)/);
      assert.match(k.when, /!inDebugMode/);
    }
  });

  test('every setting is documented and the walkthrough and icon files exist', () => {
    const m = manifest() as unknown as FullManifest;
    const settings = Object.entries(m.contributes.configuration.properties);
    assert.ok(settings.length >= 6);
    for (const [key, p] of settings) {
      assert.ok(key.startsWith('gradientLens.'), key);
      assert.ok((p.description ?? p.markdownDescription ?? '').length > 20, `${key} is not documented`);
    }
    for (const step of m.contributes.walkthroughs.flatMap((w) => w.steps)) {
      const media = step.media.markdown ?? step.media.image;
      assert.ok(media && fs.existsSync(repoPath(media)), `walkthrough step ${step.id}: ${media} missing`);
    }
    assert.ok(fs.existsSync(repoPath(m.icon)));
  });
});
