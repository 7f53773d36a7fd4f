// Restores panels after a window reload from what the webview saved (PanelState: the run's
// folder, the position in it, and the run it was compared with, which is checked before use). The run's data is reread from its trace; a live run's runner
// did not survive the reload, so the restored panel shows the recording.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { PanelState } from '../shared/protocol';
import { RunSession } from './runSession';
import { checkSavedComparison, savedComparison } from './savedComparison';
import type { TrustedBaselines } from './savedComparison';
import type { SessionManager } from './sessions';

function isPanelState(v: unknown): v is PanelState {
  return typeof v === 'object' && v !== null && typeof (v as PanelState).runDir === 'string';
}

export class PanelSerializer implements vscode.WebviewPanelSerializer<unknown> {
  constructor(
    private readonly sessions: SessionManager,
    private readonly log: vscode.LogOutputChannel,
    /** Where a restored comparison's baseline may be, for this run (its runs folder, the runs the user chose). */
    private readonly trustedBaselines: (session: RunSession) => TrustedBaselines,
  ) {}

  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    const runDir = isPanelState(state) ? state.runDir : undefined;
    // A run already open in this window (e.g. the panel was moved) is shown, not reopened.
    const existing = runDir ? this.sessions.sessions.find((s) => path.resolve(s.runDir) === path.resolve(runDir)) : undefined;
    try {
      if (!runDir || !path.isAbsolute(runDir) || !fs.existsSync(path.join(runDir, 'meta.json'))) {
        throw new Error(runDir ? `the run's folder ${runDir} is gone` : 'the panel saved no run');
      }
      const session = existing ?? RunSession.open(runDir);
      if (!existing) this.sessions.add(session);
      const shown = this.sessions.showPanel(session, panel);
      const compare = savedComparison(state);
      if (compare) void shown.restoreComparison(checkSavedComparison(compare, this.trustedBaselines(session)));
    } catch (e) {
      this.log.warn(`panel not restored: ${(e as Error).message}`);
      panel.dispose();
    }
  }
}
