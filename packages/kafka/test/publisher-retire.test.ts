// After a failed send the idempotent producer's sequence numbers are in doubt, so the publisher
// starts a new producer; and a record keeps its partition across kafkajs's retries. No broker needed.
import type { Message, PartitionerArgs, Producer } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { Publisher, retryStablePartitioner } from '../src/publisher.ts';

const wire = (body: string) => ({
  headers: { specversion: '1.0', id: body, source: 'test', type: 'test' },
  body: new TextEncoder().encode(body),
});

class FakeProducer {
  sent = 0;
  disconnected = false;
  readonly fails: boolean;
  constructor(fails: boolean) {
    this.fails = fails;
  }
  async sendBatch() {
    this.sent += 1;
    if (this.fails) {
      throw Object.assign(new Error('The broker received an out of order sequence number'), {
        name: 'KafkaJSProtocolError',
        type: 'OUT_OF_ORDER_SEQUENCE_NUMBER',
      });
    }
    return [];
  }
  async disconnect() {
    this.disconnected = true;
  }
}

describe('Publisher after a failed send', () => {
  it('retires the producer and publishes the next batch on a new one', async () => {
    const producers: FakeProducer[] = [];
    const publisher = new Publisher(
      async () => {
        const p = new FakeProducer(producers.length === 0);
        producers.push(p);
        return p as unknown as Producer;
      },
      { maxMessageBytes: 1_000_000, budget: 1_000_000 },
      [],
    );
    await expect(publisher.publish('t', [wire('a'), wire('b')])).rejects.toThrow(/out of order/);
    await expect(publisher.publish('t', [wire('a'), wire('b')])).resolves.toBeUndefined();
    expect(producers).toHaveLength(2);
    expect(producers[0]!.disconnected).toBe(true);
    expect(producers[1]!.sent).toBe(1);
    await publisher.publish('t', [wire('c')]);
    expect(producers).toHaveLength(2);
    await publisher.close();
    expect(producers[1]!.disconnected).toBe(true);
    await expect(publisher.publish('t', [wire('d')])).rejects.toThrow();
  });

  it('tries a new connection on the next publish when connecting failed', async () => {
    let attempts = 0;
    const publisher = new Publisher(
      async () => {
        attempts += 1;
        if (attempts === 1) throw new Error('Could not connect to Kafka');
        return new FakeProducer(false) as unknown as Producer;
      },
      { maxMessageBytes: 1_000_000, budget: 1_000_000 },
      [],
    );
    await expect(publisher.producer()).rejects.toThrow(/connect/);
    await expect(publisher.publish('t', [wire('a')])).resolves.toBeUndefined();
    expect(attempts).toBe(2);
  });
});

describe('retryStablePartitioner', () => {
  const partitionMetadata = [0, 1, 2].map((partitionId) => ({
    partitionId,
    leader: 1,
    replicas: [1],
    isr: [1],
    offlineReplicas: [],
    partitionErrorCode: 0,
  }));

  it('gives a record the same partition on every retry, and still spreads records without a key', () => {
    const partition = retryStablePartitioner();
    const records: Message[] = Array.from({ length: 6 }, (_, i) => ({ key: null, value: `v${i}` }));
    const place = () =>
      records.map((message) => partition({ topic: 't', partitionMetadata, message } as PartitionerArgs));
    const first = place();
    expect(new Set(first).size).toBe(3);
    expect(place()).toEqual(first);
    expect(place()).toEqual(first);
  });

  it('keeps keyed records on the partition of their key', () => {
    const partition = retryStablePartitioner();
    const a = partition({
      topic: 't',
      partitionMetadata,
      message: { key: 'k', value: '1' },
    } as PartitionerArgs);
    const b = partition({
      topic: 't',
      partitionMetadata,
      message: { key: 'k', value: '2' },
    } as PartitionerArgs);
    expect(a).toBe(b);
  });
});
