// The recorded runs in a runs folder, read from each run's meta.json only (cheap: a folder of
// hundreds of runs lists in milliseconds), for "Compare with…": the other runs of a file.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RunMeta } from '../shared/traceTypes';
import { META_FILE } from './recordCodec';

export interface RecordedRun {
  dir: string;
  meta: RunMeta;
}

/** Every folder under `runsFolder` holding a readable meta.json, newest first. */
export function listRuns(runsFolder: string): RecordedRun[] {
  let names: string[];
  try {
    names = fs.readdirSync(runsFolder);
  } catch {
    return [];
  }
  const runs: RecordedRun[] = [];
  for (const name of names) {
    const dir = path.join(runsFolder, name);
    try {
      const meta = JSON.parse(fs.readFileSync(path.join(dir, META_FILE), 'utf8')) as RunMeta;
      if (meta.formatVersion === 1 && typeof meta.file === 'string') runs.push({ dir, meta });
    } catch {
      // Not a run (or one still being created): nothing to compare with.
    }
  }
  return runs.sort((a, b) => Date.parse(b.meta.createdAt) - Date.parse(a.meta.createdAt) || b.dir.localeCompare(a.dir));
}

/** The runs of the same model file as `dir`, other than `dir` itself, newest first. */
export function otherRunsOfFile(runsFolder: string, file: string, dir: string): RecordedRun[] {
  const self = path.resolve(dir);
  return listRuns(runsFolder).filter((r) => r.meta.file === file && path.resolve(r.dir) !== self);
}
