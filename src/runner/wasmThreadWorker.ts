// One thread of XNNPACK's pool in tfjs-backend-wasm's threaded build, under Node (worker_threads):
// tfjs ships that build for browsers only (tfjs#3830). Its pthread script is Emscripten's, which
// runs under Node as it is, but it imports the module's JavaScript from a Blob URL, which Node
// cannot load. Here that module (Emscripten's factory, bundled into this file from the package's
// wasm-out/) is the global the script expects, and the import is skipped. See wasmThreads.ts.
const { wasmWorkerContents } = require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js') as { wasmWorkerContents: string };
const factory = require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js') as unknown;

Object.assign(globalThis, { WasmBackendModuleThreadedSimd: factory });
// The script turns the module it is sent into an object URL and imports that: nothing to fetch.
URL.createObjectURL = () => 'gradient-lens:threaded-simd-module';
URL.revokeObjectURL = () => undefined;
const runScript = new Function('require', '__filename', 'importScripts', `${wasmWorkerContents.replace(/\n/g, '\\n')}`);
// The script assigns its own importScripts to the global (for Node); the one it calls for the
// module URL above must not evaluate anything, so it is shadowed by the parameter.
runScript(require, __filename, () => undefined);

export {};
