// What a reloaded panel's saved state says it compared with, checked before the host opens it:
// the webview's state is not trusted. The baseline must be a trace folder (meta.json) inside one
// of the workspace's runs folders, or a run the user chose to compare with in this workspace
// (remembered by the host, not by the webview). No vscode import: the unit tests check it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { PanelState } from '../shared/protocol';

/** Where a restored baseline may be. */
export interface TrustedBaselines {
  /** The workspace's runs folders: any trace folder inside them. */
  runsFolders: readonly string[];
  /** Runs the user chose (Compare with…, Open Trace…): these folders exactly. */
  chosen: readonly string[];
}

export type SavedComparisonCheck =
  | { kind: 'restore'; baselineDir: string; tolerance: number }
  /** Not restored; `notice` is the line the panel shows, `reason` what the log says. */
  | { kind: 'notice'; notice: string; reason: string };

const inside = (root: string, dir: string) => {
  const rel = path.relative(root, dir);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
};

const realOrResolved = (p: string) => {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
};

function trusted(dir: string, t: TrustedBaselines, norm: (p: string) => string): boolean {
  const d = norm(dir);
  return t.runsFolders.some((root) => inside(norm(root), d)) || t.chosen.some((c) => norm(c) === d);
}

/** The comparison a saved state holds, if any; undefined when it holds none (or nothing usable). */
export function savedComparison(state: unknown): PanelState['compare'] {
  if (typeof state !== 'object' || state === null) return undefined;
  const c = (state as Partial<PanelState>).compare;
  if (typeof c !== 'object' || c === null || typeof c.baselineDir !== 'string' || c.baselineDir === '') return undefined;
  const tolerance = typeof c.tolerance === 'number' && Number.isFinite(c.tolerance) && c.tolerance >= 0 ? c.tolerance : 0;
  return { baselineDir: c.baselineDir, tolerance };
}

/** Whether the saved comparison may be restored, and if not, what the panel says instead. */
export function checkSavedComparison(saved: NonNullable<PanelState['compare']>, t: TrustedBaselines): SavedComparisonCheck {
  const dir = saved.baselineDir;
  const refused = (why: string): SavedComparisonCheck => ({
    kind: 'notice',
    notice: `The comparison was not restored: ${dir} ${why}.`,
    reason: `saved baseline ${dir} refused: ${why}`,
  });
  if (!path.isAbsolute(dir)) return refused('is not an absolute path');
  // The place is judged first on the path as written (a run deleted since has no real path) …
  if (!trusted(dir, t, path.resolve)) return refused("is not in this workspace's runs folder, nor a run you chose");
  if (!fs.existsSync(path.join(dir, 'meta.json'))) {
    return { kind: 'notice', notice: `The baseline run no longer exists: ${dir}`, reason: `saved baseline ${dir} is gone` };
  }
  // … then on where it really is, so a link inside the runs folder cannot lead outside it.
  if (!trusted(dir, t, realOrResolved)) return refused("is a link out of this workspace's runs folder");
  return { kind: 'restore', baselineDir: path.resolve(dir), tolerance: saved.tolerance };
}
