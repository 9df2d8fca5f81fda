import { Reader, Writer } from './wire.ts';

// CRC-32C (Castagnoli), which record batch v2 uses; node:zlib only has the plain CRC-32.
const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** A v2 record batch holding one uncompressed record with a null key. */
export function encodeRecordBatch(value: Uint8Array, timestamp = Date.now()): Buffer {
  const record = new Writer()
    .int8(0) // attributes
    .varint(0) // timestamp delta
    .varint(0) // offset delta
    .varint(-1) // null key
    .varint(value.length)
    .raw(value)
    .varint(0) // no headers
    .build();
  const afterCrc = new Writer()
    .int16(0) // attributes: no compression, not transactional
    .int32(0) // last offset delta
    .int64(BigInt(timestamp))
    .int64(BigInt(timestamp))
    .int64(-1n) // producer id: not idempotent
    .int16(-1)
    .int32(-1)
    .int32(1)
    .varint(record.length)
    .raw(record)
    .build();
  const afterLength = new Writer()
    .int32(-1) // partition leader epoch
    .int8(2) // magic
    .uint32(crc32c(afterCrc))
    .raw(afterCrc)
    .build();
  return new Writer().int64(0n).int32(afterLength.length).raw(afterLength).build();
}

/** Values of the records in a fetch response's record set (v2 batches, uncompressed). */
export function decodeRecordValues(records: Buffer): Buffer[] {
  const values: Buffer[] = [];
  const reader = new Reader(records);
  // A fetch may end with a partial batch; stop at the first one that does not fit.
  while (reader.buffer.length - reader.offset >= 12) {
    reader.int64(); // base offset
    const length = reader.int32();
    if (reader.buffer.length - reader.offset < length) break;
    const batch = new Reader(reader.take(length));
    batch.int32(); // leader epoch
    const magic = batch.int8();
    if (magic !== 2) throw new Error(`record batch magic ${magic}, expected 2`);
    const crc = batch.take(4).readUInt32BE();
    const body = batch.buffer.subarray(batch.offset);
    if (crc32c(body) !== crc) throw new Error('record batch CRC mismatch');
    const attributes = batch.int16();
    if ((attributes & 0x07) !== 0) throw new Error('compressed batch in a health-check topic');
    batch.take(4 + 8 + 8 + 8 + 2 + 4); // last offset delta .. base sequence
    const count = batch.int32();
    for (let i = 0; i < count; i++) {
      batch.varint(); // record length
      batch.int8();
      batch.varlong();
      batch.varint();
      const keyLength = batch.varint();
      if (keyLength > 0) batch.take(keyLength);
      const valueLength = batch.varint();
      values.push(valueLength < 0 ? Buffer.alloc(0) : Buffer.from(batch.take(valueLength)));
      const headers = batch.varint();
      for (let h = 0; h < headers; h++) {
        batch.take(batch.varint());
        const headerValue = batch.varint();
        if (headerValue > 0) batch.take(headerValue);
      }
    }
  }
  return values;
}
