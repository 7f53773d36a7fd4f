// Workspace trust: running or building a model executes the user's file, so it needs a trusted
// workspace (the manifest declares `untrustedWorkspaces: limited`). Recorded traces open anywhere.
import * as vscode from 'vscode';

/** Why `action` is refused, or undefined when the workspace is trusted. Pure, for the tests. */
export function trustRefusal(isTrusted: boolean, action: string): string | undefined {
  if (isTrusted) return undefined;
  return `Gradient Lens: ${action} runs the model file's code, so it needs a trusted workspace. Trust this workspace to run models; recorded traces still open with "Open Trace…".`;
}

/** True when trusted; otherwise tells the user why not (with a way to manage trust) and returns false. */
export function ensureTrusted(action: string, isTrusted = vscode.workspace.isTrusted): boolean {
  const refusal = trustRefusal(isTrusted, action);
  if (refusal === undefined) return true;
  const manage = 'Manage Workspace Trust';
  void vscode.window.showErrorMessage(refusal, manage).then((choice) => {
    if (choice === manage) void vscode.commands.executeCommand('workbench.trust.manage');
  });
  return false;
}
