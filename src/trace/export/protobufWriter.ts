// The few protobuf wire encodings a TensorBoard event needs, by hand: varints, 64- and 32-bit
// fixed fields, and length-delimited fields (strings, embedded messages, packed doubles).
// No dependency: the event format uses a dozen fields, a library would bring a schema compiler.

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

/** Builds one message, field by field, in the order they are written. */
export class ProtoWriter {
  private readonly chunks: Buffer[] = [];

  private key(field: number, wireType: number): void {
    this.varint(field * 8 + wireType);
  }

  /** A non-negative integer up to 2^53 as a base-128 varint. */
  private varint(value: number): void {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`a varint must be a safe non-negative integer, got ${value}`);
    const bytes: number[] = [];
    let v = value;
    while (v >= 0x80) {
      bytes.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    bytes.push(v);
    this.chunks.push(Buffer.from(bytes));
  }

  /** int64 / uint64 field with a non-negative value. */
  uint(field: number, value: number): this {
    this.key(field, WIRE_VARINT);
    this.varint(value);
    return this;
  }

  double(field: number, value: number): this {
    this.key(field, WIRE_FIXED64);
    const b = Buffer.alloc(8);
    b.writeDoubleLE(value);
    this.chunks.push(b);
    return this;
  }

  float(field: number, value: number): this {
    this.key(field, WIRE_FIXED32);
    const b = Buffer.alloc(4);
    b.writeFloatLE(value);
    this.chunks.push(b);
    return this;
  }

  bytes(field: number, value: Buffer): this {
    this.key(field, WIRE_LENGTH_DELIMITED);
    this.varint(value.length);
    this.chunks.push(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, Buffer.from(value, 'utf8'));
  }

  message(field: number, inner: ProtoWriter): this {
    return this.bytes(field, inner.finish());
  }

  /** A repeated double field in packed form (proto3's default for repeated scalars). */
  packedDoubles(field: number, values: ArrayLike<number>): this {
    const b = Buffer.alloc(values.length * 8);
    for (let i = 0; i < values.length; i++) b.writeDoubleLE(values[i], i * 8);
    return this.bytes(field, b);
  }

  finish(): Buffer {
    return Buffer.concat(this.chunks);
  }
}
