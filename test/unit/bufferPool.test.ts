import * as assert from 'node:assert/strict';
import { BufferPool } from '../../src/runner/capture/bufferPool';

describe('buffer pool (the capture worker’s returned copies)', () => {
  it('gives back a buffer of the asked size, once, and a fresh array otherwise', () => {
    const pool = new BufferPool();
    const returned = Float32Array.of(1, 2, 3, 4).buffer;
    pool.give([returned, new Float32Array(8).buffer]);
    const first = pool.floats(4);
    assert.equal(first.buffer, returned);
    assert.deepEqual(Array.from(pool.floats(4)), [0, 0, 0, 0], 'the one buffer of that size was taken already');
    assert.equal(pool.floats(8).length, 8);
  });

  it('keeps no detached buffers and no more than its limit', () => {
    const pool = new BufferPool();
    const detached = new ArrayBuffer(16);
    structuredClone(detached, { transfer: [detached] });
    pool.give([detached]);
    assert.deepEqual(Array.from(pool.floats(0)), []);
    // 128 MiB of 16 MiB buffers: the ninth is not kept.
    const big = Array.from({ length: 9 }, () => new ArrayBuffer(16 * 1024 * 1024));
    pool.give(big);
    const taken = Array.from({ length: 9 }, () => pool.floats(4 * 1024 * 1024).buffer);
    assert.equal(taken.filter((b) => big.includes(b as ArrayBuffer)).length, 8);
  });
});
