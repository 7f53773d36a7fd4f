// XNNPACK's thread pool for the wasm backend under Node. tfjs-backend-wasm ships a threaded build
// (SharedArrayBuffer memory, one worker per pool thread) but turns it off under Node (tfjs#3830):
// its pthread workers are created from a Blob URL, which Node's worker_threads cannot load. Here
// the flag is turned on and that URL is answered with dist/wasmThreadWorker.js, which runs the
// same Emscripten script. Convolutions and matMuls then split their output across the pool
// (each output still computed by one thread in the same order, so results are bit for bit the
// same). The build starts 8 workers as it initialises, so it is used only for a pool of 2 or more.
import * as tf from '@tensorflow/tfjs';
import { MAX_WASM_THREADS, isWasmThreadCount } from '../shared/wasmThreads';
import { builtScript } from './builtScript';

// The module object itself (not an import binding): os.cpus is swapped while the backend initialises.
const os = require('node:os') as typeof import('node:os');

/** What `auto` means: tfjs's own choice in browsers, half the logical cores (hyper-threads), at most 4. */
export function autoWasmThreads(logicalCores = os.cpus().length): number {
  return Math.max(1, Math.min(4, Math.floor(logicalCores / 2)));
}

/** The pool size asked for (GRADIENT_LENS_WASM_THREADS: a count, or `auto`); throws on anything else. */
export function wasmThreadsSetting(value: string | undefined): number {
  if (value === undefined || value === '' || value === 'auto') return autoWasmThreads();
  const n = Number(value);
  if (!isWasmThreadCount(n)) throw new Error(`wasm threads must be 'auto' or a whole number from 1 to ${MAX_WASM_THREADS}, got '${value}'`);
  return n;
}

/** GRADIENT_LENS_WASM_THREADS, as the runner and the benchmarks read it: the hosts check what they send, but a value set by hand may be anything, which is said on stderr and read as auto. */
export function wasmThreadsFromEnv(): number {
  try {
    return wasmThreadsSetting(process.env.GRADIENT_LENS_WASM_THREADS);
  } catch (e) {
    process.stderr.write(`gradient-lens runner: GRADIENT_LENS_WASM_THREADS: ${(e as Error).message}; using auto\n`);
    return autoWasmThreads();
  }
}

interface WasmPackage {
  setThreadsCount(n: number): void;
}

/**
 * Before tf.setBackend('wasm'): the threaded build with a pool of `threads`, when more than one.
 * Returns the function that undoes what is patched only while the backend initialises (its
 * pool's workers are all created then); throws, having changed nothing, when it cannot be done.
 */
export function enableWasmThreads(wasm: WasmPackage, threads: number): () => void {
  if (threads <= 1) return () => undefined;
  // Checked before anything is changed: the caller then runs single-threaded and says why.
  if (typeof SharedArrayBuffer === 'undefined') throw new Error('no SharedArrayBuffer in this Node');
  const worker = builtScript('wasmThreadWorker.js');
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  wasm.setThreadsCount(threads);
  // tfjs makes each pool worker from a Blob of its script (type application/javascript); the
  // module it sends them is a Blob too (text/javascript), handled in the worker.
  const createObjectURL = URL.createObjectURL;
  URL.createObjectURL = (blob: Blob) => (blob.type === 'application/javascript' ? worker : createObjectURL(blob));
  // tfjs's C++ caps the pool at half the logical cores it sees (os.cpus()), assuming
  // hyper-threads: a pool asked for explicitly is sized as asked while the backend initialises.
  const cpus = os.cpus;
  os.cpus = () => {
    const real = cpus();
    return real.length >= 2 * threads ? real : Array.from({ length: 2 * threads }, (_, i) => real[i % real.length]);
  };
  return () => {
    os.cpus = cpus;
    URL.createObjectURL = createObjectURL;
  };
}
