// The typings Gradient Lens ships for what a model file imports (`gradient-lens`,
// `gradient-lens/data`, `@tensorflow/tfjs`), and the one rule both the editor's TypeScript
// server plugin and the runner's type check resolve by: the workspace's own packages first,
// the shipped typings only for a module the workspace cannot resolve.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as ts from 'typescript';

export type Typescript = typeof ts;

export interface ShippedTypes {
  /** The extension's install folder (or the repository): it holds dist/types and node_modules. */
  root: string;
  /** dist/types/api: the declarations emitted from src/api at build time. */
  apiDir: string;
  /** Module name → the declaration file it resolves to when the workspace has none of its own. */
  modules: ReadonlyMap<string, string>;
}

const API_DIR = path.join('dist', 'types', 'api');
/** From dist/, out/test/unit/ or node_modules/gradient-lens-ts-plugin/ up to the root; no further. */
const SEARCH_DEPTH = 4;

/** The shipped typings in the first folder at or above `from` that has them (undefined: none). */
export function findShippedTypes(typescript: Typescript, from: string): ShippedTypes | undefined {
  let dir = from;
  for (let i = 0; i < SEARCH_DEPTH; i++) {
    const apiDir = path.join(dir, API_DIR);
    if (fs.existsSync(path.join(apiDir, 'index.d.ts'))) return shippedAt(typescript, dir, apiDir);
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return undefined;
}

function shippedAt(typescript: Typescript, root: string, apiDir: string): ShippedTypes {
  const modules = new Map<string, string>([
    ['gradient-lens', path.join(apiDir, 'index.d.ts')],
    ['gradient-lens/data', path.join(apiDir, 'data.d.ts')],
  ]);
  // tfjs as seen from the extension's own folder: its declarations then find their siblings
  // (tfjs-core, tfjs-layers, …) in the extension's node_modules the ordinary way.
  const tfjs = typescript.resolveModuleName(
    '@tensorflow/tfjs',
    path.join(root, 'package.json'),
    { moduleResolution: typescript.ModuleResolutionKind.Node10 },
    typescript.sys,
  ).resolvedModule;
  if (tfjs?.extension === typescript.Extension.Dts) {
    modules.set('@tensorflow/tfjs', tfjs.resolvedFileName);
    // The runner runs a file that imports tfjs-node on its own tfjs where tfjs-node is not installed.
    modules.set('@tensorflow/tfjs-node', tfjs.resolvedFileName);
  }
  return { root, apiDir, modules };
}

/** How a module name resolves the ordinary way when imported from `containingFile`. */
export type ResolveFrom = (name: string, containingFile: string) => ts.ResolvedModuleWithFailedLookupLocations;

/**
 * `resolved` (the ordinary resolution of `name` from `containingFile`), or the shipped typings
 * where it failed. `workspaceFile` is a file of the user's: the shipped gradient-lens declarations
 * import `@tensorflow/tfjs` as the workspace would, so that a workspace with its own tfjs gets one
 * `Tensor` type, not two that do not match.
 */
export function resolveWithShippedTypes(
  typescript: Typescript,
  shipped: ShippedTypes,
  workspaceFile: string,
  name: string,
  containingFile: string,
  resolved: ts.ResolvedModuleWithFailedLookupLocations,
  resolveFrom: ResolveFrom,
): ts.ResolvedModuleWithFailedLookupLocations {
  if (isInside(containingFile, shipped.apiDir) && !isRelative(name)) {
    const fromWorkspace = resolveFrom(name, workspaceFile);
    if (fromWorkspace.resolvedModule) return fromWorkspace;
  }
  if (resolved.resolvedModule) return resolved;
  const file = shipped.modules.get(name);
  if (!file) return resolved;
  // Keep the failed lookups: the TypeScript server watches them, so installing the package later
  // switches the file to the workspace's own types.
  return {
    ...resolved,
    resolvedModule: { resolvedFileName: file, extension: typescript.Extension.Dts, isExternalLibraryImport: true },
  };
}

function isRelative(name: string): boolean {
  return name.startsWith('./') || name.startsWith('../') || name === '.' || name === '..';
}

function isInside(file: string, dir: string): boolean {
  const rel = path.relative(dir, file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}
