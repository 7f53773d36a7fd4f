// What a type check's verdict depends on, as the compiler met it on disk: the content of each
// file it read (the user's sources, tsconfig.json, package.json files, lib and package
// declarations), each folder it listed, and each path it looked for and did not find (a package
// installed there, or a tsconfig.json created, changes what the check sees). A cached verdict
// holds while every one of them is as recorded.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** 'nofile', 'nodir', 'file:<hash of its bytes>' or 'dir:<hash of its sub-folder names>'. */
export type InputState = string;

export type CheckInputs = [path: string, state: InputState][];

const NO_FILE = 'nofile';
const NO_DIR = 'nodir';

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

/** Records what the compiler reads and looks for, through a file-system host it is given. */
export class InputRecorder {
  private readonly inputs = new Map<string, InputState>();

  /** Reads a file as the compiler's host would (UTF-8, without a byte-order mark), recording its bytes. */
  readFile = (file: string): string | undefined => {
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(file);
    } catch {
      this.inputs.set(file, NO_FILE);
      return undefined;
    }
    this.inputs.set(file, fileState(bytes));
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
  return inputs.every(([p, state]) => currentState(p, state) === state);
}

function currentState(p: string, recorded: InputState): InputState {
  if (recorded === NO_FILE) return isFile(p) ? 'file' : NO_FILE;
  if (recorded === NO_DIR) return isDirectory(p) ? 'dir' : NO_DIR;
  try {
    return recorded.startsWith('dir:') ? dirState(p) : fileState(fs.readFileSync(p));
  } catch {
    return NO_FILE;
  }
}
