// The TypeScript server plugin the extension contributes (package.json,
// `contributes.typescriptServerPlugins`): in a workspace with nothing installed, lessons and the
// user's model files get full types for `@tensorflow/tfjs`, `gradient-lens` and
// `gradient-lens/data` from the typings shipped in the extension. It changes module resolution
// only where the ordinary resolution fails, so a workspace's own packages keep their own types.
import * as path from 'node:path';
import type * as ts from 'typescript';
import { findShippedTypes, resolveWithShippedTypes, type ShippedTypes, type Typescript } from './shippedTypes';

/**
 * Makes `host` fall back to the shipped typings (a language service created from it, or already
 * created and synchronised afterwards, resolves through it). `workspaceFile` stands for the user's
 * files when the shipped declarations import tfjs (see resolveWithShippedTypes).
 */
export function addShippedTypesFallback(
  typescript: Typescript,
  host: ts.LanguageServiceHost,
  shipped: ShippedTypes,
  workspaceFile: string,
): void {
  const resolveFrom = (name: string, containingFile: string) =>
    typescript.resolveModuleName(name, containingFile, host.getCompilationSettings(), typescript.sys);
  const literals = host.resolveModuleNameLiterals?.bind(host);
  const names = host.resolveModuleNames?.bind(host);
  if (literals || !names) {
    host.resolveModuleNameLiterals = (moduleLiterals, containingFile, redirected, options, sourceFile, reused) => {
      const resolved = literals
        ? literals(moduleLiterals, containingFile, redirected, options, sourceFile, reused)
        : moduleLiterals.map((l) =>
            typescript.resolveModuleName(l.text, containingFile, options, typescript.sys, undefined, redirected, typescript.getModeForUsageLocation(sourceFile, l, options)),
          );
      return resolved.map((r, i) => resolveWithShippedTypes(typescript, shipped, workspaceFile, moduleLiterals[i].text, containingFile, r, resolveFrom));
    };
    return;
  }
  // TypeScript before 5.0 (a workspace's own version) asks resolveModuleNames instead.
  host.resolveModuleNames = (moduleNames, containingFile, reused, redirected, options, sourceFile) =>
    names(moduleNames, containingFile, reused, redirected, options, sourceFile).map(
      (r, i) => {
        const full = r && { extension: extensionOf(typescript, r.resolvedFileName), ...r };
        return resolveWithShippedTypes(typescript, shipped, workspaceFile, moduleNames[i], containingFile, { resolvedModule: full }, resolveFrom).resolvedModule;
      },
    );
}

function extensionOf(typescript: Typescript, file: string): ts.Extension {
  const E = typescript.Extension;
  // Declaration extensions before the ones they end with.
  const known = [E.Dts, E.Dmts, E.Dcts, E.Ts, E.Tsx, E.Mts, E.Cts, E.Js, E.Jsx, E.Mjs, E.Cjs, E.Json];
  return known.find((e) => file.endsWith(e)) ?? E.Ts;
}

/** The factory tsserver calls with its own TypeScript (see main.ts). */
export function createPlugin(modules: { typescript: Typescript }): ts.server.PluginModule {
  const typescript = modules.typescript;
  return {
    create(info) {
      const logger = info.project.projectService.logger;
      const shipped = findShippedTypes(typescript, __dirname);
      if (!shipped) {
        logger.info(`gradient-lens-ts-plugin: no shipped typings found above ${__dirname}`);
        return info.languageService;
      }
      const workspaceFile = path.join(info.project.getCurrentDirectory(), '__gradient-lens-workspace__.ts');
      addShippedTypesFallback(typescript, info.languageServiceHost, shipped, workspaceFile);
      logger.info(`gradient-lens-ts-plugin: unresolved ${[...shipped.modules.keys()].join(', ')} fall back to ${shipped.root}`);
      return info.languageService;
    },
  };
}
