// What a type check's verdict depends on, as the compiler met it on disk: the content of each
// file it read (the user's sources, tsconfig.json, package.json files, lib and package
// declarations), each folder it listed, and each path it looked for and did not find (a package
// installed there, or a tsconfig.json created, changes what the check sees). A cached verdict
// holds while every one of them is as recorded.
//
// The cache is read on the training thread before the first step, and hashing the ~800 files a
// tfjs model's check reads costs tens of ms there. So each file also records its stamp (inode,
// size, mtime, ctime), and a file whose stamp is unchanged is not read again, as git trusts its
// index. Any write moves ctime (utimes cannot set it back), so an equal stamp means equal bytes;
// except for a write in the same clock tick as the recording, which is why only files changed
// well before they were read get a stamp (a file saved just before the check read it is hashed).
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** 'nofile', 'nodir', 'file:<hash of its bytes>[:<stamp>]' or 'dir:<hash of its sub-folder names>'. */
export type InputState = string;

export type CheckInputs = [path: string, state: InputState][];

const NO_FILE = 'nofile';
const NO_DIR = 'nodir';

/** A file changed this recently when it was read may change again within the same timestamp tick (coarse on some file systems). */
const SETTLED_MS = 2000;

function digest(data: string | Uint8Array): string {
  return createHash('sha1').update(data).digest('hex').slice(0, 20);
}

function subFolders(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() || (e.isSymbolicLink() && isDirectory(path.join(dir, e.name))))
    .map((e) => e.name)
    .sort();
}

function isDirectory(p: string): boolean {
  return fs.statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;
}

function isFile(p: string): boolean {
  return fs.statSync(p, { throwIfNoEntry: false })?.isFile() ?? false;
}

function fileState(bytes: Uint8Array): InputState {
  return `file:${digest(bytes)}`;
}

function dirState(dir: string): InputState {
  return `dir:${digest(subFolders(dir).join('\n'))}`;
}

/** What changes whenever the file's bytes do (see the top of this file); undefined when it is no file. */
function stampOf(file: string, settledOnly = false): string | undefined {
  const st = fs.statSync(file, { bigint: true, throwIfNoEntry: false });
  if (!st?.isFile() || (settledOnly && Number(st.ctimeMs) > Date.now() - SETTLED_MS)) return undefined;
  return `${st.ino}.${st.size}.${st.mtimeNs}.${st.ctimeNs}`;
}

/** Records what the compiler reads and looks for, through a file-system host it is given. */
export class InputRecorder {
  private readonly inputs = new Map<string, InputState>();

  /** Reads a file as the compiler's host would (UTF-8, without a byte-order mark), recording its bytes. */
  readFile = (file: string): string | undefined => {
    // Stamped before it is read: a write in between moves the stamp, so the bytes get hashed next time.
    const stamp = stampOf(file, true);
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(file);
    } catch {
      this.inputs.set(file, NO_FILE);
      return undefined;
    }
    this.inputs.set(file, stamp ? `${fileState(bytes)}:${stamp}` : fileState(bytes));
    return bytes.toString('utf8').replace(/^\uFEFF/, '');
  };

  fileExists = (file: string): boolean => {
    const exists = isFile(file);
    if (!exists) this.inputs.set(file, NO_FILE);
    return exists;
  };

  directoryExists = (dir: string): boolean => {
    const exists = isDirectory(dir);
    if (!exists) this.inputs.set(dir, NO_DIR);
    return exists;
  };

  getDirectories = (dir: string): string[] => {
    if (!isDirectory(dir)) {
      this.inputs.set(dir, NO_DIR);
      return [];
    }
    this.inputs.set(dir, dirState(dir));
    return subFolders(dir);
  };

  entries(): CheckInputs {
    return [...this.inputs];
  }
}

/** Whether every input is still as recorded (false at the first that is not). */
export function inputsUnchanged(inputs: CheckInputs): boolean {
  return inputs.every(([p, state]) => unchanged(p, state));
}

function unchanged(p: string, recorded: InputState): boolean {
  if (recorded === NO_FILE) return !isFile(p);
  if (recorded === NO_DIR) return !isDirectory(p);
  try {
    if (recorded.startsWith('dir:')) return dirState(p) === recorded;
    const [kind, hash, stamp] = recorded.split(':');
    if (stamp !== undefined && stampOf(p) === stamp) return true;
    return fileState(fs.readFileSync(p)) === `${kind}:${hash}`;
  } catch {
    return false;
  }
}
