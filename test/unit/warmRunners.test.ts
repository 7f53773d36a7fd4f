// The warm spare runner: taken when it fits, replaced after a take, killed when idle or disposed.
import * as assert from 'node:assert/strict';
import type { RunnerPort } from '../../src/extension/runnerPort';
import type { BackendPreference, RunnerKind } from '../../src/extension/settings';
import type { WasmThreads } from '../../src/shared/wasmThreads';
import { WarmRunners } from '../../src/extension/warmRunners';

interface FakeRunner extends RunnerPort {
  kind: RunnerKind;
  disposed: boolean;
  id: number;
}

function fakeSpawner() {
  const spawned: FakeRunner[] = [];
  const spawn = async (kind: RunnerKind): Promise<RunnerPort> => {
    let exit: () => void = () => undefined;
    const exited = new Promise<void>((r) => (exit = r));
    const runner: FakeRunner = {
      kind,
      id: spawned.length,
      disposed: false,
      get pid() {
        return this.disposed ? undefined : 1000 + this.id;
      },
      exited,
      onMessage: () => ({ dispose: () => undefined }),
      onStall: () => ({ dispose: () => undefined }),
      load: () => Promise.reject(new Error('not used')),
      start: () => Promise.reject(new Error('not used')),
      control: () => Promise.resolve(),
      stop: () => Promise.resolve(),
      dispose() {
        this.disposed = true;
        exit();
      },
    };
    spawned.push(runner);
    return runner;
  };
  return { spawned, spawn };
}

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));
const kind = (backend: BackendPreference, wasmThreads: WasmThreads = 'auto'): RunnerKind => ({ backend, wasmThreads });

describe('warm runners', function () {
  it('hands out the spare when its backend fits, and starts the next one after a take', async function () {
    const { spawned, spawn } = fakeSpawner();
    const pool = new WarmRunners(spawn, { idleMs: 10_000, replenishDelayMs: 5 });
    const first = (await pool.take(kind('auto'))) as FakeRunner;
    assert.equal(spawned.length, 1, 'no spare yet: the first take spawns');
    await tick(30);
    assert.equal(pool.hasSpare, true);
    assert.equal(spawned.length, 2);
    const second = (await pool.take(kind('auto'))) as FakeRunner;
    assert.equal(second, spawned[1], 'the second take gets the spare');
    assert.notEqual(second, first);
    pool.dispose();
  });

  it('replaces a spare of another backend, and forgets one that died', async function () {
    const { spawned, spawn } = fakeSpawner();
    const pool = new WarmRunners(spawn, { idleMs: 10_000, replenishDelayMs: 5 });
    await pool.take(kind('wasm'));
    await tick(30);
    const wasmSpare = spawned[1];
    const cpu = (await pool.take(kind('cpu'))) as FakeRunner;
    assert.deepEqual(cpu.kind, kind('cpu'));
    await tick(0);
    assert.equal(wasmSpare.disposed, true, 'the unfitting spare is killed');
    await tick(30);
    const cpuSpare = spawned[spawned.length - 1];
    assert.deepEqual(cpuSpare.kind, kind('cpu'));
    cpuSpare.dispose();
    await tick(0);
    assert.equal(pool.hasSpare, false, 'a dead spare is forgotten');
    const next = (await pool.take(kind('cpu'))) as FakeRunner;
    assert.equal(next.disposed, false);
    pool.dispose();
  });

  it('a spare started with other wasm threads does not fit', async function () {
    const { spawned, spawn } = fakeSpawner();
    const pool = new WarmRunners(spawn, { idleMs: 10_000, replenishDelayMs: 5 });
    await pool.take(kind('wasm'));
    await tick(30);
    const autoSpare = spawned[1];
    const two = (await pool.take(kind('wasm', 2))) as FakeRunner;
    assert.notEqual(two, autoSpare);
    assert.deepEqual(two.kind, kind('wasm', 2));
    await tick(0);
    assert.equal(autoSpare.disposed, true);
    await tick(30);
    assert.equal(await pool.take(kind('wasm', 2)), spawned[spawned.length - 1], 'the spare of the same kind fits');
    pool.dispose();
  });

  it('kills an idle spare, and the spare on dispose', async function () {
    const { spawned, spawn } = fakeSpawner();
    const pool = new WarmRunners(spawn, { idleMs: 20, replenishDelayMs: 5 });
    await pool.take(kind('auto'));
    await tick(10);
    assert.equal(pool.hasSpare, true);
    await tick(60);
    assert.equal(pool.hasSpare, false);
    assert.equal(spawned[1].disposed, true, 'idle spare killed');
    await pool.take(kind('auto'));
    await tick(10);
    pool.dispose();
    await tick(0);
    assert.ok(spawned.slice(2).every((r) => r.disposed || r === spawned[2]), 'the spare dies with the pool');
    assert.equal(spawned[spawned.length - 1].disposed, true);
  });
});
