// TFRecord framing, the container of a TensorBoard event file: for each record, its length
// (uint64 little-endian), the masked CRC-32C of those 8 bytes, the data, the masked CRC-32C of
// the data.
import { maskedCrc32c } from './crc32c';

export function tfRecord(data: Buffer): Buffer {
  const out = Buffer.alloc(8 + 4 + data.length + 4);
  out.writeBigUInt64LE(BigInt(data.length), 0);
  out.writeUInt32LE(maskedCrc32c(out.subarray(0, 8)), 8);
  data.copy(out, 12);
  out.writeUInt32LE(maskedCrc32c(data), 12 + data.length);
  return out;
}
