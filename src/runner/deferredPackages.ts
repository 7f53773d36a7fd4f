// Runs before @tensorflow/tfjs loads (esbuild.mjs makes it the first import of the node bundles'
// tfjs namespace). The umbrella package requires tfjs-converter and tfjs-backend-webgl as it
// loads, and training needs neither (no graph models; no WebGL in Node): ≈ 40–60 ms of every
// runner start here. So each is stood in for, in Node's require cache, by an object with the
// package's export names whose values load the real package on their first read; its version
// export, which the umbrella reads as it loads, is taken from its package.json.
import * as path from 'node:path';
import Module from 'node:module';

export interface DeferredPackage {
  name: string;
  /** Every export of the package (a test checks the list against the installed package). */
  exports: readonly string[];
  /** The export holding its version, read from package.json without loading the package. */
  versionExport: string;
}

export const DEFERRED_TFJS_PACKAGES: readonly DeferredPackage[] = [
  {
    name: '@tensorflow/tfjs-converter',
    exports: ['GraphModel', 'deregisterOp', 'loadGraphModel', 'loadGraphModelSync', 'registerOp', 'version_converter'],
    versionExport: 'version_converter',
  },
  {
    name: '@tensorflow/tfjs-backend-webgl',
    exports: ['GPGPUContext', 'MathBackendWebGL', 'forceHalfFloat', 'gpgpu_util', 'setWebGLContext', 'version_webgl', 'webgl', 'webgl_util'],
    versionExport: 'version_webgl',
  },
];

/**
 * Puts a stand-in for `pkg`, as `from` would require it, into the require cache, unless the
 * package is loaded already. Returns whether it did.
 */
export function deferPackage(pkg: DeferredPackage, from: string): boolean {
  const file = require.resolve(pkg.name, { paths: [from] });
  if (require.cache[file]) return false;
  let real: Record<string, unknown> | undefined;
  const load = (): Record<string, unknown> => {
    if (!real) {
      delete require.cache[file];
      real = require(file) as Record<string, unknown>;
    }
    return real;
  };
  const standIn: Record<string, unknown> = {};
  for (const name of pkg.exports) {
    if (name !== pkg.versionExport) Object.defineProperty(standIn, name, { enumerable: true, get: () => load()[name] });
  }
  const manifest = require.resolve(`${pkg.name}/package.json`, { paths: [from] });
  Object.defineProperty(standIn, pkg.versionExport, { enumerable: true, value: (require(manifest) as { version: string }).version });
  const module = new Module(file);
  module.filename = file;
  module.loaded = true;
  module.exports = standIn;
  require.cache[file] = module;
  return true;
}

/** The umbrella package's folder: its requires of the deferred packages resolve from there. */
function umbrellaDir(): string | undefined {
  try {
    return path.dirname(require.resolve('@tensorflow/tfjs/package.json'));
  } catch {
    return undefined; // not installed: nothing to defer
  }
}

const from = umbrellaDir();
if (from) for (const pkg of DEFERRED_TFJS_PACKAGES) deferPackage(pkg, from);
