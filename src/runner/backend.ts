// Chooses the fastest tfjs backend this machine can run: native libtensorflow (tfjs-node-gpu,
// tfjs-node) where installed, else wasm (XNNPACK, SIMD) from node_modules, else the cpu backend.
// The choice and the reason for skipping each faster one are reported and recorded in the trace.
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { BackendInfo, BackendName } from '../shared/traceTypes';
import { markStage } from './startupTiming';
import { enableWasmThreads } from './wasmThreads';

export type BackendPreference = 'auto' | BackendName;

function errorText(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.split('\n')[0];
}

function tryNative(skipped: string[]): BackendInfo | undefined {
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      // Registers the 'tensorflow' backend on the tfjs-core instance it shares with us.
      require(pkg);
      if (tf.findBackendFactory('tensorflow')) return { name: 'tensorflow', reason: `${pkg} (native libtensorflow)` };
      skipped.push(`${pkg} loaded but registered no backend (a second tfjs-core copy?)`);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      skipped.push(code === 'MODULE_NOT_FOUND' ? `${pkg} is not installed` : `${pkg} failed to load: ${errorText(e)}`);
    }
  }
  return undefined;
}

async function tryWasm(skipped: string[], threads: number): Promise<BackendInfo | undefined> {
  try {
    const wasm = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
    // The .wasm files sit next to the package's main file; nothing is fetched from the network.
    wasm.setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + path.sep);
    markStage('wasm backend loaded');
    let restore = (): void => undefined;
    try {
      restore = enableWasmThreads(wasm, threads);
    } catch (e) {
      skipped.push(`wasm threads off: ${errorText(e)}`);
    }
    try {
      if (!(await tf.setBackend('wasm'))) throw new Error('initialisation failed');
    } finally {
      restore();
    }
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    return { name: 'wasm', reason: 'wasm (XNNPACK) from node_modules', simd: Boolean(simd), threads: wasm.getThreadsCount() };
  } catch (e) {
    skipped.push(`wasm failed: ${errorText(e)}`);
    return undefined;
  }
}

/** `wasmThreads`: XNNPACK's pool size on the wasm backend (wasmThreads.ts; 1 is single-threaded). */
export async function selectBackend(preference: BackendPreference = 'auto', wasmThreads = 1): Promise<BackendInfo> {
  // Production mode: no debug checks, and no "install our node backend" banner on stdout; the
  // backend choice and its reason are reported properly instead.
  tf.env().set('PROD', true);
  const skipped: string[] = preference === 'auto' ? [] : [`${preference} requested`];
  let chosen: BackendInfo | undefined;
  if (preference === 'auto' || preference === 'tensorflow') chosen = tryNative(skipped);
  markStage('native backends tried');
  if (chosen) {
    await tf.setBackend('tensorflow');
  } else if (preference !== 'cpu') {
    chosen = await tryWasm(skipped, wasmThreads);
  }
  if (!chosen) {
    await tf.setBackend('cpu');
    chosen = { name: 'cpu', reason: 'cpu (pure JavaScript)' };
  }
  await tf.ready();
  if (skipped.length > 0) chosen.reason += `; ${skipped.join('; ')}`;
  return chosen;
}
