// The capture worker hands each step's copy buffers back once the record is written; the next
// steps' copies reuse them. Without it every step allocated its captured tensors afresh (≈ 2.4 MB
// for the seed MLP), and collecting them cost ≈ 2 ms of GC pauses a step, more than the copy.

/** Free buffers kept, at most, in all: a few steps' copies of a mid-size model. */
const MAX_FREE_BYTES = 128 * 1024 * 1024;

export class BufferPool {
  private readonly free = new Map<number, ArrayBuffer[]>();
  private freeBytes = 0;

  /** An array of `length` floats, reused when one of its size came back; its old values are to be overwritten. */
  floats(length: number): Float32Array {
    const buffer = this.free.get(length * 4)?.pop();
    if (!buffer) return new Float32Array(length);
    this.freeBytes -= buffer.byteLength;
    return new Float32Array(buffer);
  }

  /** Buffers no one uses any more (detached ones, of length 0, are left out). */
  give(buffers: readonly ArrayBuffer[]): void {
    for (const buffer of buffers) {
      if (buffer.byteLength === 0 || this.freeBytes + buffer.byteLength > MAX_FREE_BYTES) continue;
      const same = this.free.get(buffer.byteLength) ?? [];
      same.push(buffer);
      this.free.set(buffer.byteLength, same);
      this.freeBytes += buffer.byteLength;
    }
  }
}
