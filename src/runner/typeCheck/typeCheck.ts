// Type errors in the user's file, found by the TypeScript compiler in a worker thread while
// training starts (a full check of a tfjs model takes seconds; the first steps need not wait).
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { RunError } from '../../shared/traceTypes';

export interface TypeCheckRequest {
  file: string;
  /** Where the 'gradient-lens' API sources live, for resolving its types. */
  apiDir: string;
}

export interface TypeDiagnostic {
  file: string;
  line: number;
  column: number;
  message: string;
  code: number;
}

function workerPath(): string | undefined {
  const candidate = path.join(__dirname, 'typeCheckWorker.js');
  return fs.existsSync(candidate) ? candidate : undefined;
}

const CACHE_DIR = path.join(os.tmpdir(), 'gradient-lens-typecheck');

/**
 * Where a file's verdict is cached: keyed by its bundle, which changes whenever any of the
 * user's sources it imports changes (a full check costs seconds; an unchanged file needs none).
 */
function cachePath(file: string, bundleCode: string, apiDir: string, script: string): string {
  // The verdict names the file's path, so the same code elsewhere is another entry.
  const hash = createHash('sha256').update(file).update(bundleCode);
  // The checker and the types the file is checked against are part of the verdict too.
  for (const input of [script, path.join(apiDir, 'index.ts'), path.join(apiDir, 'data.ts')]) {
    try {
      hash.update(fs.readFileSync(input));
    } catch {
      // No API sources here: the checker runs without them.
    }
  }
  return path.join(CACHE_DIR, `${hash.digest('hex').slice(0, 32)}.json`);
}

function readCache(file: string): TypeDiagnostic[] | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as TypeDiagnostic[];
  } catch {
    return undefined;
  }
}

function writeCache(file: string, diagnostics: TypeDiagnostic[]): void {
  try {
    fs.mkdirSync(CACHE_DIR, { recursive: true });
    fs.writeFileSync(file, JSON.stringify(diagnostics));
  } catch {
    // A cache that cannot be written only costs the next run a check.
  }
}

function firstError(diagnostics: TypeDiagnostic[]): RunError | undefined {
  const first = diagnostics[0];
  if (!first) return undefined;
  const more = diagnostics.length > 1 ? ` (and ${diagnostics.length - 1} more type error${diagnostics.length > 2 ? 's' : ''})` : '';
  return { kind: 'type', message: `TS${first.code}: ${first.message}${more}`, location: { file: first.file, line: first.line, column: first.column } };
}

/** Resolves with the first type error (and how many more), or undefined when the file checks. */
export function startTypeCheck(file: string, bundleCode: string): Promise<RunError | undefined> {
  const script = workerPath();
  if (!script) return Promise.resolve(undefined);
  const apiDir = path.resolve(__dirname, '..', 'src', 'api');
  const cached = cachePath(file, bundleCode, apiDir, script);
  const known = readCache(cached);
  if (known) return Promise.resolve(firstError(known));
  return new Promise((resolve) => {
    const worker = new Worker(script, { workerData: { file, apiDir } satisfies TypeCheckRequest });
    worker.unref();
    worker.once('message', (diagnostics: TypeDiagnostic[]) => {
      void worker.terminate();
      writeCache(cached, diagnostics);
      resolve(firstError(diagnostics));
    });
    // A checker that cannot run (no TypeScript installed, say) must not fail the user's run.
    worker.once('error', () => resolve(undefined));
  });
}
