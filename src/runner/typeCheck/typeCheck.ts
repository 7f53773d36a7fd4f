// Type errors in the user's file, found by the TypeScript compiler in a worker thread while
// training starts (a full check of a tfjs model takes seconds; the first steps need not wait).
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { TypeDiagnostic } from '../../shared/protocol';
import type { RunError } from '../../shared/traceTypes';
import { inputsUnchanged, type CheckInputs } from './checkInputs';
import { markStage } from '../startupTiming';

export interface TypeCheckRequest {
  file: string;
}

/** What the worker posts: the errors, and everything on disk they depend on. */
export interface TypeCheckResult {
  diagnostics: TypeDiagnostic[];
  inputs: CheckInputs;
}

export interface TypeCheck {
  /** The verdict, when the cache already holds it: known before the first step. */
  known?: TypeDiagnostic[];
  /** The verdict; rejects when the checker could not run. */
  done: Promise<TypeDiagnostic[]>;
}

export interface TypeCheckOptions {
  /** The worker's built script (default: typeCheckWorker.js beside this bundle). */
  workerScript?: string;
  /** Where verdicts are cached (default: gradient-lens-typecheck in the temp folder). */
  cacheDir?: string;
}

/** A cached verdict, valid while every input is unchanged. */
interface CacheEntry extends TypeCheckResult {
  file: string;
}

function cachePath(cacheDir: string, file: string, script: string): string {
  // One entry per file and checker: what the verdict depends on is in the entry itself.
  const hash = createHash('sha256').update(file).update('\0').update(fs.readFileSync(script));
  return path.join(cacheDir, `${hash.digest('hex').slice(0, 32)}.json`);
}

function readCache(entryPath: string, file: string): TypeDiagnostic[] | undefined {
  let entry: CacheEntry;
  try {
    entry = JSON.parse(fs.readFileSync(entryPath, 'utf8')) as CacheEntry;
  } catch {
    return undefined;
  }
  if (entry.file !== file || !Array.isArray(entry.inputs) || !Array.isArray(entry.diagnostics)) return undefined;
  return inputsUnchanged(entry.inputs) ? entry.diagnostics : undefined;
}

function writeCache(cacheDir: string, entryPath: string, entry: CacheEntry): void {
  try {
    fs.mkdirSync(cacheDir, { recursive: true });
    const tmp = `${entryPath}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(entry));
    fs.renameSync(tmp, entryPath);
  } catch {
    // A cache that cannot be written only costs the next run a check.
  }
}

/** The run's failure for 'error' mode: the first type error, its full message, at its place. */
export function typeFailure(diagnostics: readonly TypeDiagnostic[]): RunError | undefined {
  const first = diagnostics[0];
  if (!first) return undefined;
  return { kind: 'type', message: `TS${first.code}: ${first.message}`, location: { file: first.file, line: first.line, column: first.column } };
}

/** Starts checking `file` (undefined when there is no checker beside this bundle). */
export function startTypeCheck(file: string, options: TypeCheckOptions = {}): TypeCheck | undefined {
  const script = options.workerScript ?? path.join(__dirname, 'typeCheckWorker.js');
  if (!fs.existsSync(script)) return undefined;
  const cacheDir = options.cacheDir ?? path.join(os.tmpdir(), 'gradient-lens-typecheck');
  const entryPath = cachePath(cacheDir, file, script);
  markStage('type check: cache entry named');
  const known = readCache(entryPath, file);
  markStage(`type check: cache ${known ? 'holds' : 'misses'}`);
  if (known) return { known, done: Promise.resolve(known) };
  const done = new Promise<TypeDiagnostic[]>((resolve, reject) => {
    const worker = new Worker(script, { workerData: { file } satisfies TypeCheckRequest });
    worker.unref();
    worker.once('message', (result: TypeCheckResult) => {
      void worker.terminate();
      writeCache(cacheDir, entryPath, { file, ...result });
      resolve(result.diagnostics);
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the type checker stopped (exit code ${code}) before its verdict`)));
  });
  return { done };
}
