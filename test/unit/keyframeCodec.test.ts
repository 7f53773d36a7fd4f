import * as assert from 'node:assert/strict';
import type { TensorValues } from '../../src/shared/traceTypes';
import { fromHalves, fromPlanes, toHalf, toPlanes } from '../../src/trace/floatPacking';
import { CorruptKeyframeError, decodeKeyframe, encodeKeyframe } from '../../src/trace/keyframeCodec';

const bits = (a: Float32Array): number[] => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

/** The awkward float32 values: NaNs with payloads, ±Infinity, ±0, subnormals, the extremes, and ordinary noise. */
function awkward(): Float32Array {
  const special = new Uint32Array([
    0x7fc00000, 0xffc00000, 0x7f800001, 0x7fbfffff, 0x7f800000, 0xff800000, 0x00000000, 0x80000000,
    0x00000001, 0x80000001, 0x007fffff, 0x00400000, 0x00800000, 0x7f7fffff, 0xff7fffff, 0x3f800000,
  ]);
  const out = new Float32Array(special.length + 5000);
  out.set(new Float32Array(special.buffer));
  let x = 12345;
  for (let i = special.length; i < out.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = (x / 2 ** 32 - 0.5) * 10 ** ((i % 13) - 6);
  }
  return out;
}

const tensor = (values: Float32Array, param = 'kernel'): TensorValues => ({ layer: 0, role: 'param', param, scope: 'full', shape: [values.length], values });

const HALF_VALUES = fromHalves(Uint16Array.from({ length: 0x7c01 }, (_, h) => h));

/** The half nearest to x, ties to the even one, found by search over every half (the reference for toHalf). */
function nearestHalf(x: number): number {
  const sign = new Uint32Array(Float32Array.of(x).buffer)[0] >>> 31 ? 0x8000 : 0;
  if (Number.isNaN(x)) return sign | 0x7e00;
  const a = Math.abs(x);
  if (a >= 65520) return sign | 0x7c00; // 65504 + half its last step: IEEE rounds this and beyond to Infinity
  const values = HALF_VALUES;
  let lo = 0;
  let hi = 0x7c00;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (values[mid] <= a) lo = mid;
    else hi = mid;
  }
  const dLo = a - values[lo];
  const dHi = values[hi] - a;
  return sign | (dLo < dHi || (dLo === dHi && lo % 2 === 0) ? lo : hi);
}

describe('keyframe tensors, compressed', () => {
  it('byte planes are exact both ways, for 4- and 2-byte values, aligned or not', () => {
    const bytes = Uint8Array.from({ length: 4 * 37 }, (_, i) => (i * 31 + 7) & 0xff);
    for (const width of [4, 2]) {
      const planes = toPlanes(bytes, width);
      assert.notDeepEqual(Array.from(planes), Array.from(bytes));
      assert.deepEqual(Array.from(fromPlanes(planes, width)), Array.from(bytes));
    }
    const unaligned = new Uint8Array(bytes.length + 1).subarray(1);
    unaligned.set(bytes);
    assert.deepEqual(Array.from(toPlanes(unaligned, 4)), Array.from(toPlanes(bytes, 4)));
  });

  it('exact: every float32 comes back bit for bit — NaN payloads, ±Infinity, −0, subnormals — and smaller', () => {
    const values = awkward();
    const file = encodeKeyframe(7, [tensor(values), tensor(new Float32Array(0), 'bias'), tensor(new Float32Array(4096), 'zeros')]);
    const back = decodeKeyframe(file, 'k.glk', 7);
    assert.deepEqual(bits(back[0].values), bits(values));
    assert.equal(back[1].values.length, 0);
    assert.deepEqual(bits(back[2].values), bits(new Float32Array(4096)));
    assert.ok(file.length < values.byteLength + 4096 * 4, `${file.length} bytes`);
    assert.deepEqual({ ...back[0], values: undefined }, { ...tensor(values), values: undefined });
  });

  it('float16: the nearest half (ties to even) for every kind of value, within the stated error', () => {
    const values = awkward();
    const extra = Float32Array.from([65504, 65519.99, 65520, -65520, 1e9, 2 ** -24, 2 ** -25, 2 ** -25 * 1.0001, 3 * 2 ** -26, 2 ** -14, 1 + 2 ** -11, 1 + 3 * 2 ** -11]);
    const all = new Float32Array(values.length + extra.length);
    all.set(values);
    all.set(extra, values.length);
    for (let i = 0; i < all.length; i++) assert.equal(toHalf(all[i]), nearestHalf(all[i]), `toHalf(${all[i]})`);
    const back = decodeKeyframe(encodeKeyframe(1, [tensor(all)], 'float16'), 'k.glk')[0].values;
    for (let i = 0; i < all.length; i++) {
      const x = all[i];
      const y = back[i];
      if (Number.isNaN(x)) assert.ok(Number.isNaN(y), `${i}: NaN stays NaN`);
      else if (Math.abs(x) >= 65520) assert.equal(y, Math.sign(x) * Infinity, `${x} overflows to ±Infinity`);
      else if (Math.abs(x) >= 2 ** -14) assert.ok(Math.abs(y - x) <= Math.abs(x) * 2 ** -11, `${x} → ${y}`);
      else assert.ok(Math.abs(y - x) <= 2 ** -25, `${x} → ${y}`);
      if (x === 0) assert.ok(Object.is(x, -0) === Object.is(y, -0), 'the sign of zero is kept');
    }
  });

  it('a damaged file names itself and the byte; a file of another step is refused', () => {
    const file = encodeKeyframe(3, [tensor(awkward())]);
    const fails = (buf: Buffer, message: string, step?: number) =>
      assert.throws(
        () => decodeKeyframe(buf, '/t/keyframes/k.glk', step),
        (e: Error) => e instanceof CorruptKeyframeError && e.message === `/t/keyframes/k.glk: damaged keyframe at byte ${message}`,
      );
    fails(file.subarray(0, 10), '0 (the file is 10 bytes, shorter than its 16-byte frame)');
    fails(file.subarray(0, 500), `500 (the file is cut short: ${file.length - 500} of its ${file.length} bytes are missing)`);
    const magic = Buffer.from(file);
    magic[0] ^= 1;
    fails(magic, '0 (not a keyframe file (bad magic))');
    const header = Buffer.from(file);
    header[30] ^= 1;
    fails(header, '16 (the checksum of its header does not match)');
    const data = Buffer.from(file);
    data[data.length - 5] ^= 1;
    const at = file.length - data.subarray(16).length + (file.readUInt32LE(16) + 4 + 3 - ((file.readUInt32LE(16) + 4 + 3) % 4));
    fails(data, `${at} (tensor 0 (layer 0 param kernel): its checksum does not match)`);
    fails(file, '20 (it holds step 3, not 4)', 4);
  });
});
