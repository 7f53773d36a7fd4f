// Shared by the extension-host suites: the extension under test, activated, and its manifest.
import * as vscode from 'vscode';

export const EXTENSION_ID = 'gradient-lens.gradient-lens';

interface Manifest {
  contributes: { commands: { command: string; title: string; category?: string }[] };
}

export function extension(): vscode.Extension<unknown> {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  if (!ext) throw new Error(`${EXTENSION_ID} is not loaded in this extension host`);
  return ext;
}

/** Activates the extension: until then getCommands() does not list its commands. */
export async function activateExtension(): Promise<void> {
  await extension().activate();
}

export function manifest(): Manifest {
  return extension().packageJSON as Manifest;
}
