// XNNPACK's pool on the wasm backend, as a host asks the runner for it (the gradientLens.wasmThreads
// setting, the CLI's --threads, GRADIENT_LENS_WASM_THREADS): one vocabulary for all three.

/** 'auto' (half the logical cores, at most 4: src/runner/wasmThreads.ts) or a thread count. */
export type WasmThreads = number | 'auto';

export const MAX_WASM_THREADS = 8;

/** A thread count a host may ask for: a whole number from 1 to MAX_WASM_THREADS. */
export function isWasmThreadCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_WASM_THREADS;
}
