import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { poolEncoderBuffers } from '../src/encoder-buffers.ts';

interface Encoder {
  buf: Buffer;
  readonly buffer: Buffer;
  writeVarInt(value: number): Encoder;
  writeUVarInt(value: number): Encoder;
}

const require = createRequire(import.meta.url);
const Encoder = require('kafkajs/src/protocol/encoder.js') as new () => Encoder;
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as {
  RecordBatch(batch: object): Promise<Encoder>;
};
const Record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (record: object) => Encoder;
const Produce = require('kafkajs/src/protocol/requests/produce/v3/request.js') as (request: object) => {
  encode(): Promise<Encoder>;
};
const frame = require('kafkajs/src/protocol/request.js') as (request: object) => Promise<Encoder>;

/**
 * A whole produce request as the connection writes it: 300 records of 1 KiB over three partitions
 * of two topics (the layers that copy: records, batches, partitions, topics, request, size frame).
 */
async function produceRequest(): Promise<Buffer> {
  const messages = (partition: number) =>
    Array.from({ length: 100 }, (_, i) => ({
      key: `k${i}`,
      value: Buffer.alloc(1024, 97 + ((i + partition) % 26)),
      timestamp: 1765000000000 + i,
      headers: {
        ce_id: `id-${partition}-${i}`,
        ce_type: 'bench.event',
        'content-type': 'application/octet-stream',
      },
    }));
  const request = Produce({
    acks: -1,
    timeout: 30_000,
    topicData: [
      {
        topic: 'a',
        partitions: [0, 1].map((partition) => ({
          partition,
          firstSequence: 7,
          messages: messages(partition),
        })),
      },
      { topic: 'b', partitions: [{ partition: 2, firstSequence: 0, messages: messages(2) }] },
    ],
  });
  const framed = await frame({ correlationId: 42, clientId: 'test', request });
  // Twice, as the connection reads it (its size, then the write): the same bytes.
  expect(framed.buffer.equals(framed.buffer)).toBe(true);
  return framed.buffer;
}
let unpatchedRequest: Buffer | undefined;

/** A record batch as the producer builds one: records past 512 bytes, headers of several sizes. */
async function recordBatch(): Promise<Buffer> {
  const records = [0, 1, 2].map((i) =>
    Record({
      offsetDelta: i,
      timestampDelta: i * 300,
      key: Buffer.from(`k${i}`),
      value: i === 2 ? Buffer.alloc(3000, 0x61) : Buffer.from(`{"n":${i}}`),
      headers: {
        ce_id: `id-${i}`,
        ce_source: 'test',
        'content-type': 'application/json',
        ce_big: 'x'.repeat(i * 200),
      },
    }),
  );
  const batch = await RecordBatch({
    firstTimestamp: 1765000000000,
    maxTimestamp: 1765000000600,
    lastOffsetDelta: 2,
    records,
  });
  return batch.buffer;
}

function varints(): string {
  const encoder = new Encoder();
  for (const v of [
    0,
    1,
    63,
    64,
    127,
    128,
    300,
    16383,
    16384,
    2 ** 21,
    2 ** 28,
    2 ** 31 - 1,
    -1,
    -64,
    -65,
    -(2 ** 31),
  ])
    encoder.writeVarInt(v);
  for (const v of [0, 127, 128, 2 ** 32 - 1]) encoder.writeUVarInt(v);
  return encoder.buffer.toString('hex');
}

// What kafkajs 2.2.4 itself writes for the two inputs above (computed with it unpatched; the first
// test checks that again, the second that the fix writes the same).
const BATCH_SHA256 = 'd633c2d2d4518327c1204f12eca3daaa6f48adca55e6cb60ddc65181df94099b';
const VARINTS =
  '00027e8001fe018002d804feff01808002808080028080808002feffffff0f017f8101ffffffff0f007f8001ffffffff0f';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe("kafkajs's encoder on pooled buffers", () => {
  it('the reference bytes are what kafkajs writes unpatched', async () => {
    expect(new Encoder().buf.length).toBe(512);
    expect(sha256(await recordBatch())).toBe(BATCH_SHA256);
    expect(varints()).toBe(VARINTS);
    unpatchedRequest = await produceRequest();
  });

  it('writes the same bytes, without a zero-filled buffer per encoder', async () => {
    poolEncoderBuffers();
    poolEncoderBuffers();
    // Installed: the constructor no longer allocates, the first write takes from the pool.
    const encoder = new Encoder();
    expect(encoder.buf.length).toBe(0);
    encoder.writeVarInt(1);
    expect(encoder.buf.length).toBe(512);
    expect(encoder.buf.buffer.byteLength).toBe(Buffer.poolSize);
    expect(sha256(await recordBatch())).toBe(BATCH_SHA256);
    expect(varints()).toBe(VARINTS);
  });

  it('writes a whole produce request the same, its layers referenced instead of copied', async () => {
    poolEncoderBuffers();
    const patched = await produceRequest();
    expect(patched.length).toBe(unpatchedRequest!.length);
    expect(patched.equals(unpatchedRequest!)).toBe(true);
  });

  it("copies a record's own bytes at once: changing them after encoding changes nothing", async () => {
    poolEncoderBuffers();
    const value = Buffer.alloc(2048, 0x61);
    const record = Record({ offsetDelta: 0, timestampDelta: 0, key: null, value, headers: {} });
    const encoder = new Encoder().writeVarInt(1);
    (encoder as unknown as { writeEncoder(e: Encoder): Encoder }).writeEncoder(record);
    const before = Buffer.from(encoder.buffer);
    value.fill(0x62);
    expect(encoder.buffer.equals(before)).toBe(true);
  });
});
