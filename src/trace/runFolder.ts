// Where a new run's trace goes: `.gradient-lens/runs/<time>_<file>_<tag>/`, sortable by time.
import * as path from 'node:path';

/** A folder name for a new run: sortable time, the model file's name, and a tag against clashes. */
export function runFolderName(file: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[:.]/g, '-').replace('T', '_').slice(0, 19);
  const base = path.basename(file).replace(/\.[cm]?[jt]s$/, '').replace(/[^\w.-]+/g, '-');
  return `${stamp}_${base}_${Math.random().toString(36).slice(2, 6)}`;
}

/** The default trace folder for a run of `file`, under `root` (the workspace, or the current folder). */
export function defaultRunDir(root: string, file: string): string {
  return path.join(root, '.gradient-lens', 'runs', runFolderName(file));
}
