// What a trace from elsewhere may make the editor do. A trace's meta.json is data anyone can
// write: its layer locations may point anywhere, and its names may hold Markdown. A location
// opens only inside an open workspace folder (after following symlinks) and only if the file
// exists; text from a trace is escaped before it goes into Markdown. Pure, for the unit tests.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Why `file` (from a trace) may not be opened, or undefined when it may. */
export function locationRefusal(file: string, workspaceFolders: readonly string[]): string | undefined {
  if (!path.isAbsolute(file)) return `${file} is not an absolute path`;
  let real: string;
  try {
    real = fs.realpathSync(file);
  } catch {
    return `${file} does not exist (any more)`;
  }
  if (!fs.statSync(real).isFile()) return `${file} is not a file`;
  const inside = workspaceFolders.some((folder) => {
    let root: string;
    try {
      root = fs.realpathSync(folder);
    } catch {
      return false;
    }
    const rel = path.relative(root, real);
    return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
  });
  return inside ? undefined : `${file} is outside the open workspace folders`;
}

/**
 * `text` with every character Markdown (and VS Code's $(icon) syntax) gives a meaning escaped,
 * and line breaks flattened: a name from a trace stays one line of plain text.
 */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').replace(/[\\`*_{}[\]()#+\-.!|<>~&$:"']/g, '\\$&');
}

/** `text` as an inline code span: shown verbatim (no links, no HTML), whatever backticks it holds. */
export function codeSpan(text: string): string {
  const flat = text.replace(/[\r\n]+/g, ' ');
  const longestRun = Math.max(0, ...(flat.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longestRun + 1);
  const pad = flat.startsWith('`') || flat.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${flat}${pad}${fence}`;
}
