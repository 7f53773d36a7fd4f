// Runs in a worker thread: type-checks the user's model file with the TypeScript compiler and
// posts its errors. Kept off the runner's main thread, so training starts without waiting for it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import ts from 'typescript';
import type { TypeCheckRequest, TypeDiagnostic } from './typeCheck';

const { file, apiDir } = workerData as TypeCheckRequest;

const hasApiSources = fs.existsSync(path.join(apiDir, 'index.ts'));

/** The folder holding @types/node, seen from the user's file or from here: model files are Node scripts. */
function nodeTypesRoot(): string | undefined {
  for (const from of [path.dirname(file), __dirname]) {
    try {
      return path.dirname(path.dirname(require.resolve('@types/node/package.json', { paths: [from] })));
    } catch {
      // not visible from there
    }
  }
  return undefined;
}
const typesRoot = nodeTypesRoot();
/** "Cannot find name 'console' / 'require' / 'process'…": only meaningful when Node's types were found. */
const MISSING_GLOBAL_CODES = new Set([2580, 2584, 2591, 2592, 2593]);
const options: ts.CompilerOptions = {
  strict: true,
  noEmit: true,
  skipLibCheck: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  esModuleInterop: true,
  types: typesRoot ? ['node'] : [],
  typeRoots: typesRoot ? [typesRoot] : undefined,
  lib: ['lib.es2022.d.ts'],
  paths: hasApiSources
    ? { 'gradient-lens': [path.join(apiDir, 'index.ts')], 'gradient-lens/data': [path.join(apiDir, 'data.ts')] }
    : undefined,
};

const program = ts.createProgram([file], options);
const diagnostics: TypeDiagnostic[] = [];
for (const d of ts.getPreEmitDiagnostics(program)) {
  if (!d.file || d.category !== ts.DiagnosticCategory.Error) continue;
  // Only the user's own files: library declarations are not theirs to fix.
  if (d.file.fileName.includes('/node_modules/') || d.file.fileName.startsWith(apiDir)) continue;
  if (!typesRoot && MISSING_GLOBAL_CODES.has(d.code)) continue;
  const { line, character } = d.file.getLineAndCharacterOfPosition(d.start ?? 0);
  diagnostics.push({
    file: path.resolve(d.file.fileName),
    line: line + 1,
    column: character + 1,
    message: ts.flattenDiagnosticMessageText(d.messageText, '\n'),
    code: d.code,
  });
}
parentPort?.postMessage(diagnostics);
