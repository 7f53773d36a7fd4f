// The `gradientLens.*` settings (documented in package.json), read in one place, and what they
// mean for a run: the overrides sent to the runner and the folder the trace goes into.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { StartRequest, TypeCheckMode } from '../shared/protocol';
import { KEYFRAME_PRECISIONS, type KeyframePrecision } from '../shared/traceTypes';
import { isWasmThreadCount, type WasmThreads } from '../shared/wasmThreads';

export type BackendPreference = 'auto' | 'tensorflow' | 'wasm' | 'cpu';

/** What a runner is started with (warmRunners.ts hands out a spare only to a run of its kind). */
export interface RunnerKind {
  backend: BackendPreference;
  wasmThreads: WasmThreads;
}

export interface Settings {
  steps: number | null;
  backend: BackendPreference;
  wasmThreads: WasmThreads;
  stepBudgetBytes: number | null;
  keyframeBudgetBytes: number | null;
  keyframeEvery: number | null;
  /** The whole trace's byte budget in MB (2^20 bytes). */
  traceBudgetMB: number | null;
  keyframePrecision: KeyframePrecision | null;
  inlineValues: boolean;
  modelInfo: boolean;
  traceFolder: string;
  startPaused: boolean;
  typeCheck: TypeCheckMode;
}

export function readSettings(scope?: vscode.Uri): Settings {
  const c = vscode.workspace.getConfiguration('gradientLens', scope);
  return {
    steps: c.get<number | null>('steps', null),
    backend: c.get<BackendPreference>('backend', 'auto'),
    wasmThreads: wasmThreads(c.get<unknown>('wasmThreads', 0)),
    stepBudgetBytes: c.get<number | null>('capture.stepBudgetBytes', null),
    keyframeBudgetBytes: c.get<number | null>('capture.keyframeBudgetBytes', null),
    keyframeEvery: c.get<number | null>('capture.keyframeEvery', null),
    traceBudgetMB: c.get<number | null>('traceBudgetMB', null),
    keyframePrecision: keyframePrecision(c.get<unknown>('capture.keyframePrecision', null)),
    inlineValues: c.get<boolean>('inlineValues.enabled', true),
    modelInfo: c.get<boolean>('modelInfo.enabled', true),
    traceFolder: c.get<string>('traceFolder', ''),
    startPaused: c.get<boolean>('startPaused', false),
    typeCheck: typeCheckMode(c.get<unknown>('typeCheck', 'warn')),
  };
}

/** `gradientLens.wasmThreads`: 0 is automatic; anything but a thread count is too. */
function wasmThreads(value: unknown): WasmThreads {
  return isWasmThreadCount(value) ? value : 'auto';
}

/** The kind of runner these settings ask for. */
export function runnerKind(settings: Pick<Settings, 'backend' | 'wasmThreads'>): RunnerKind {
  return { backend: settings.backend, wasmThreads: settings.wasmThreads };
}

/** `gradientLens.typeCheck`; true and false are what the setting held before it had three values. */
function typeCheckMode(value: unknown): TypeCheckMode {
  if (value === 'warn' || value === 'error' || value === 'off') return value;
  return value === false ? 'off' : 'warn';
}

function keyframePrecision(value: unknown): KeyframePrecision | null {
  return (KEYFRAME_PRECISIONS as readonly unknown[]).includes(value) ? (value as KeyframePrecision) : null;
}

/** What the settings override of the file's own `defineTraining`; only what is set. */
export function runOverrides(s: Settings): NonNullable<StartRequest['overrides']> {
  const overrides: NonNullable<StartRequest['overrides']> = {};
  if (s.steps !== null) overrides.steps = s.steps;
  const capture: NonNullable<NonNullable<StartRequest['overrides']>['capture']> = {};
  if (s.stepBudgetBytes !== null) capture.stepBudgetBytes = s.stepBudgetBytes;
  if (s.keyframeBudgetBytes !== null) capture.keyframeBudgetBytes = s.keyframeBudgetBytes;
  if (s.keyframeEvery !== null) capture.keyframeEvery = s.keyframeEvery;
  if (s.traceBudgetMB !== null) capture.traceBudgetBytes = Math.round(s.traceBudgetMB * 2 ** 20);
  if (s.keyframePrecision !== null) capture.keyframePrecision = s.keyframePrecision;
  if (Object.keys(capture).length > 0) overrides.capture = capture;
  return overrides;
}

/**
 * The folder a run of `file` is recorded in: the setting when set (relative paths are taken from
 * the file's workspace folder), else `.gradient-lens/runs` in the file's workspace folder, else
 * the extension's global storage (a file outside any workspace, e.g. a lesson).
 */
export function runsFolder(file: vscode.Uri, s: Settings, globalStorage: vscode.Uri): string {
  const folder = vscode.workspace.getWorkspaceFolder(file) ?? vscode.workspace.workspaceFolders?.[0];
  if (s.traceFolder) {
    if (path.isAbsolute(s.traceFolder)) return s.traceFolder;
    if (folder) return path.join(folder.uri.fsPath, s.traceFolder);
  }
  if (folder) return path.join(folder.uri.fsPath, '.gradient-lens', 'runs');
  return path.join(globalStorage.fsPath, 'runs');
}
