// Entry point of the gradient-lens-ts-plugin package (built by esbuild.mjs into dist/tsPlugin,
// shipped as node_modules/gradient-lens-ts-plugin). tsserver requires the module itself to be
// the plugin's factory function, hence a CommonJS export assignment rather than a named export.
import { createPlugin } from './createPlugin';

module.exports = createPlugin;
