// Runs in a worker thread: type-checks the user's model file with the TypeScript compiler and
// posts its errors with everything on disk they depend on (the cache's key). Kept off the
// runner's main thread, so training starts without waiting for it.
import * as path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import ts from 'typescript';
import type { TypeDiagnostic } from '../../shared/protocol';
import { findShippedTypes, resolveWithShippedTypes } from '../../tsPlugin/shippedTypes';
import { InputRecorder } from './checkInputs';
import type { TypeCheckRequest, TypeCheckResult } from './typeCheck';

const { file } = workerData as TypeCheckRequest;
const recorder = new InputRecorder();
// The checker's own version is part of the verdict.
recorder.readFile(require.resolve('typescript/package.json'));

/** Without a tsconfig.json: strict, a Node script (as the runner runs it), bundler-style imports. */
const DEFAULT_OPTIONS: ts.CompilerOptions = {
  strict: true,
  skipLibCheck: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  esModuleInterop: true,
  resolveJsonModule: true,
  lib: ['lib.es2022.d.ts'],
};

/** A check, never a build: whatever the user's tsconfig says about output does not apply. */
const CHECK_ONLY: ts.CompilerOptions = {
  noEmit: true,
  composite: undefined,
  incremental: undefined,
  tsBuildInfoFile: undefined,
  declaration: undefined,
  declarationMap: undefined,
  emitDeclarationOnly: undefined,
};

/** "Cannot find name 'console' / 'require' / 'process'…": only meaningful when Node's types were found. */
const MISSING_GLOBAL_CODES = new Set([2580, 2584, 2591, 2592, 2593]);

interface Setup {
  options: ts.CompilerOptions;
  rootNames: string[];
  configFile?: string;
  configErrors: readonly ts.Diagnostic[];
  /** Whether Node's types are in the program (else "cannot find 'process'" says nothing about the user's code). */
  nodeTypes: boolean;
}

const samePath = (a: string, b: string) => path.resolve(a) === path.resolve(b);

/** The folder holding @types/node, seen from the user's file or from here: model files are Node scripts. */
function nodeTypesRoot(): string | undefined {
  for (const from of [path.dirname(file), __dirname]) {
    for (let dir = from; ; dir = path.dirname(dir)) {
      const root = path.join(dir, 'node_modules', '@types');
      if (recorder.fileExists(path.join(root, 'node', 'package.json'))) return root;
      if (path.dirname(dir) === dir) break;
    }
  }
  return undefined;
}

/** The user's tsconfig.json when it includes the file (as the editor's TypeScript would use it), else the defaults. */
function setup(): Setup {
  const configFile = ts.findConfigFile(path.dirname(file), recorder.fileExists);
  if (configFile) {
    const errors: ts.Diagnostic[] = [];
    const parsed = ts.getParsedCommandLineOfConfigFile(
      configFile,
      {},
      {
        ...ts.sys,
        fileExists: recorder.fileExists,
        readFile: recorder.readFile,
        onUnRecoverableConfigFileDiagnostic: (d) => errors.push(d),
      },
    );
    if (parsed?.fileNames.some((f) => samePath(f, file))) {
      return {
        options: { ...parsed.options, ...CHECK_ONLY },
        // Its declaration files too: they may declare globals the model file uses.
        rootNames: [file, ...parsed.fileNames.filter((f) => f.endsWith('.d.ts'))],
        configFile,
        configErrors: [...errors, ...parsed.errors],
        nodeTypes: true,
      };
    }
  }
  const typesRoot = nodeTypesRoot();
  return {
    options: { ...DEFAULT_OPTIONS, ...CHECK_ONLY, types: typesRoot ? ['node'] : [], typeRoots: typesRoot ? [typesRoot] : undefined },
    rootNames: [file],
    configErrors: [],
    nodeTypes: typesRoot !== undefined,
  };
}

function compilerHost(options: ts.CompilerOptions): ts.CompilerHost {
  const host = ts.createCompilerHost(options);
  host.readFile = recorder.readFile;
  host.fileExists = recorder.fileExists;
  host.directoryExists = recorder.directoryExists;
  host.getDirectories = recorder.getDirectories;
  // The workspace's own packages first; the typings shipped with Gradient Lens for what it cannot resolve.
  const shipped = findShippedTypes(ts, __dirname);
  const cache = ts.createModuleResolutionCache(host.getCurrentDirectory(), host.getCanonicalFileName, options);
  host.resolveModuleNameLiterals = (literals, containingFile, redirected, opts, sourceFile) =>
    literals.map((literal) => {
      const mode = ts.getModeForUsageLocation(sourceFile, literal, opts);
      const resolved = ts.resolveModuleName(literal.text, containingFile, opts, host, cache, redirected, mode);
      if (!shipped) return resolved;
      const resolveFrom = (name: string, from: string) => ts.resolveModuleName(name, from, opts, host, cache, redirected);
      return resolveWithShippedTypes(ts, shipped, file, literal.text, containingFile, resolved, resolveFrom);
    });
  return host;
}

function located(d: ts.Diagnostic, fallbackFile: string): TypeDiagnostic {
  const message = ts.flattenDiagnosticMessageText(d.messageText, '\n');
  if (!d.file) return { file: fallbackFile, line: 1, column: 1, code: d.code, message };
  const { line, character } = d.file.getLineAndCharacterOfPosition(d.start ?? 0);
  return { file: path.resolve(d.file.fileName), line: line + 1, column: character + 1, code: d.code, message };
}

function check(): TypeDiagnostic[] {
  const s = setup();
  const program = ts.createProgram({ rootNames: s.rootNames, options: s.options, host: compilerHost(s.options) });
  // Only the user's own files, the model file first: library declarations are not theirs to fix.
  const own = program.getSourceFiles().filter((sf) => !sf.isDeclarationFile && !program.isSourceFileFromExternalLibrary(sf));
  own.sort((a, b) => Number(!samePath(a.fileName, file)) - Number(!samePath(b.fileName, file)));
  const found: ts.Diagnostic[] = [];
  for (const sf of own) found.push(...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf));
  found.push(...s.configErrors, ...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics());
  return found
    .filter((d) => d.category === ts.DiagnosticCategory.Error && (s.nodeTypes || !MISSING_GLOBAL_CODES.has(d.code)))
    .map((d) => located(d, s.configFile ?? file));
}

const diagnostics = check();
parentPort?.postMessage({ diagnostics, inputs: recorder.entries() } satisfies TypeCheckResult);
