// Byte planes and half precision for keyframe tensors. Deflate finds little to repeat in
// interleaved float32 bytes; split into planes (every value's byte 0, then every byte 1, …) the
// sign/exponent plane of a weight matrix is nearly constant and compresses well, the low mantissa
// plane stays noise. Both transforms are exact and their own inverse's input: no value changes.

/** Word-at-a-time paths read and write values as little-endian words: true on every platform Node ships for but s390x. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The `width`-byte values of `bytes`, split into `width` planes (bytes.length must be a multiple of width). */
export function toPlanes(bytes: Uint8Array, width: number): Uint8Array {
  const n = bytes.length / width;
  const out = new Uint8Array(bytes.length);
  if (width === 4 && LITTLE_ENDIAN && bytes.byteOffset % 4 === 0) {
    const words = new Uint32Array(bytes.buffer, bytes.byteOffset, n);
    for (let i = 0; i < n; i++) {
      const v = words[i];
      out[i] = v;
      out[n + i] = v >>> 8;
      out[2 * n + i] = v >>> 16;
      out[3 * n + i] = v >>> 24;
    }
    return out;
  }
  for (let b = 0; b < width; b++) {
    const plane = b * n;
    for (let i = 0, j = b; i < n; i++, j += width) out[plane + i] = bytes[j];
  }
  return out;
}

/** The inverse of toPlanes, written into `out` (a fresh buffer when omitted). */
export function fromPlanes(planes: Uint8Array, width: number, out = new Uint8Array(planes.length)): Uint8Array {
  const n = planes.length / width;
  if (width === 4 && LITTLE_ENDIAN && out.byteOffset % 4 === 0) {
    const words = new Uint32Array(out.buffer, out.byteOffset, n);
    for (let i = 0; i < n; i++) words[i] = planes[i] | (planes[n + i] << 8) | (planes[2 * n + i] << 16) | (planes[3 * n + i] << 24);
    return out;
  }
  for (let b = 0; b < width; b++) {
    const plane = b * n;
    for (let i = 0, j = b; i < n; i++, j += width) out[j] = planes[plane + i];
  }
  return out;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 → IEEE half, rounding to nearest even; NaN stays NaN, overflow becomes ±Infinity, tiny values go subnormal or ±0. */
export function toHalf(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half (or zero): shift the full significand, round to nearest even.
    if (e < -10) return sign;
    const full = mant | 0x800000;
    const shift = 14 - e;
    const half = full >>> shift;
    const rest = full & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (rest > mid || (rest === mid && (half & 1)) ? half + 1 : half);
  }
  const half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  // A carry out of the mantissa bumps the exponent, up to Infinity: exactly IEEE rounding.
  return sign | (rest > 0x1000 || (rest === 0x1000 && (half & 1)) ? half + 1 : half);
}

let halfTable: Float32Array | undefined;

/** Every half's float32 value (256 kB, built on first use): decoding is one lookup a value. */
function halves(): Float32Array {
  if (halfTable) return halfTable;
  halfTable = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >>> 10) & 0x1f;
    const mant = h & 0x3ff;
    halfTable[h] = exp === 0 ? sign * mant * 2 ** -24 : exp === 0x1f ? (mant ? NaN : sign * Infinity) : sign * (1 + mant / 1024) * 2 ** (exp - 15);
  }
  return halfTable;
}

export function toHalves(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = toHalf(values[i]);
  return out;
}

export function fromHalves(h: Uint16Array): Float32Array {
  const table = halves();
  const out = new Float32Array(h.length);
  for (let i = 0; i < h.length; i++) out[i] = table[h[i]];
  return out;
}
