// Entry point of the extension host side: builds the modules and wires them together. Every
// runner process belongs to a session, a model-info build or the warm spare, all disposed on
// deactivate.
import * as vscode from 'vscode';
import { ChangeMarks } from './changeMarks';
import { Commands } from './commands';
import { CompareCommands } from './compareCommands';
import { ModelCodeLensProvider } from './codeLens';
import { Diagnostics } from './diagnostics';
import { InlineValues } from './inlineValues';
import { CursorLayerSync, revealLayer } from './layerNavigation';
import { LayerHoverProvider } from './layerHover';
import { ModelInfoCache } from './modelInfoCache';
import { createLog } from './outputLog';
import { PANEL_VIEW_TYPE } from './panelHost';
import { PanelSerializer } from './panelSerializer';
import type { TrustedBaselines } from './savedComparison';
import { killAllRunners, spawnRunner } from './runnerProcess';
import type { RunSession } from './runSession';
import { SessionManager } from './sessions';
import { readSettings, runnerKind } from './settings';
import { RunStatusBar } from './statusBar';
import { trustRefusal } from './trust';
import { WarmRunners } from './warmRunners';

/** What activate() returns: for the extension-host tests, and for other extensions to read runs. */
export interface GradientLensApi {
  sessions(): RunSession[];
  activeSession(): RunSession | undefined;
  statusText(): string;
  diagnostics(file: string): readonly vscode.Diagnostic[];
  trustRefusal: typeof trustRefusal;
  inlineDecorations: typeof InlineValues.decorationsFor;
  /** The marks a rerun left on the lines whose layers changed most against the previous run. */
  changeMarks(document: vscode.TextDocument): vscode.DecorationOptions[];
  /** Where a reloaded panel's saved baseline may be for this run (what PanelSerializer checks against). */
  trustedBaselines(session: RunSession): TrustedBaselines;
}

let current: { sessions: SessionManager; models: ModelInfoCache; runners: WarmRunners } | undefined;

export function activate(context: vscode.ExtensionContext): GradientLensApi {
  const log = createLog();
  context.subscriptions.push(log);
  const extensionPath = context.extensionUri.fsPath;

  const sessions = new SessionManager(context.extensionUri, log, {
    revealLayer: (session, layer) => void revealLayer(session, layer),
    stop: (session) => void session.stop(),
    compareReport: (session, baseline, diff) => void compare.openReport(baseline, session.reader, diff),
  });
  const runners = new WarmRunners((kind) => spawnRunner({ extensionPath, kind, log }));
  const models = new ModelInfoCache(() => runners.take(runnerKind(readSettings())), log);
  const diagnostics = new Diagnostics(sessions, models);
  const statusBar = new RunStatusBar(sessions);
  const inlineValues = new InlineValues(sessions);
  const changeMarks = new ChangeMarks(sessions, log);
  const commands = new Commands({
    context,
    sessions,
    log,
    spawn: (settings) => runners.take(runnerKind(settings)),
    reportFailure: (file, error) => diagnostics.reportFailure(file, error),
  });
  const compare = new CompareCommands({ context, sessions, log });
  const typescript: vscode.DocumentSelector = { language: 'typescript', scheme: 'file' };
  const codeLens = new ModelCodeLensProvider(models);
  context.subscriptions.push(
    runners,
    sessions,
    models,
    diagnostics,
    statusBar,
    inlineValues,
    changeMarks,
    new CursorLayerSync(sessions),
    ...commands.register(),
    ...compare.register(),
    vscode.languages.registerHoverProvider(typescript, new LayerHoverProvider(models, sessions, changeMarks)),
    codeLens,
    vscode.languages.registerCodeLensProvider(typescript, codeLens),
    vscode.window.registerWebviewPanelSerializer(PANEL_VIEW_TYPE, new PanelSerializer(sessions, log, (session) => compare.trustedBaselines(session))),
  );
  current = { sessions, models, runners };

  return {
    sessions: () => sessions.sessions,
    activeSession: () => sessions.active,
    statusText: () => statusBar.text,
    diagnostics: (file) => diagnostics.diagnosticsFor(file),
    trustRefusal,
    inlineDecorations: InlineValues.decorationsFor,
    changeMarks: (document) => changeMarks.decorationsFor(document),
    trustedBaselines: (session) => compare.trustedBaselines(session),
  };
}

/** Kills every runner: those of the sessions, the model-info cache's, and any still starting. */
export function deactivate(): void {
  current?.sessions.dispose();
  current?.models.dispose();
  current?.runners.dispose();
  current = undefined;
  killAllRunners();
}
