// Entry point of the extension host side: wires the modules together and owns nothing else.
import * as vscode from 'vscode';

export function activate(context: vscode.ExtensionContext): void {
  const ids = (context.extension.packageJSON as { contributes: { commands: { command: string }[] } }).contributes.commands;
  for (const { command } of ids) {
    context.subscriptions.push(vscode.commands.registerCommand(command, () => undefined));
  }
}

export function deactivate(): void {}
