// What `import … from '@tensorflow/tfjs'` is in the node bundles (esbuild.mjs points it here),
// and so what the user's model file gets: the umbrella package's exports from the packages that
// training uses — core, layers, data and the cpu backend — without tfjs-backend-webgl (no WebGL
// in Node) and with tfjs-converter loaded only if the file uses it (withConverter). Requiring
// the umbrella loads both: 128–163 ms against 70–99 ms for these four, measured here, at every
// start of a runner.
import { version_core } from '@tensorflow/tfjs-core';
import { version_layers } from '@tensorflow/tfjs-layers';
import { version_cpu } from '@tensorflow/tfjs-backend-cpu';
import * as data from '@tensorflow/tfjs-data';

export * from '@tensorflow/tfjs-core';
export * from '@tensorflow/tfjs-layers';
export * from '@tensorflow/tfjs-backend-cpu';
export { data };

/** As the umbrella's `tf.version`, for the packages loaded. */
export const version: Record<string, string> = {
  'tfjs-core': version_core,
  'tfjs-backend-cpu': version_cpu,
  'tfjs-data': data.version_data,
  'tfjs-layers': version_layers,
  tfjs: (require('@tensorflow/tfjs/package.json') as { version: string }).version,
};

/** The umbrella's exports that come from tfjs-converter. */
const CONVERTER_EXPORTS = ['GraphModel', 'loadGraphModel', 'loadGraphModelSync', 'registerOp', 'deregisterOp', 'version_converter'];

/** `tf` with the converter's exports added, each loading the package on first use. */
export function withConverter<T extends object>(tf: T): T {
  const converter = () => require('@tensorflow/tfjs-converter') as Record<string, unknown>;
  const lazy = Object.fromEntries(CONVERTER_EXPORTS.map((name) => [name, { get: () => converter()[name], enumerable: true }]));
  return Object.defineProperties({ ...tf }, lazy);
}
