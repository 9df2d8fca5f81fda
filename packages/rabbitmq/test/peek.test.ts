import { UnsupportedOperationError, type WireMessage } from '@switchyard/core';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Fixture, filePrefix, unique, until } from './helpers.ts';
import { sweep } from './sweep.ts';

const fixture = new Fixture();
afterAll(() => sweep(filePrefix));
afterEach(() => fixture.close());

const message = (n: number): WireMessage => ({
  headers: { specversion: '1.0', id: `m-${n}`, source: 'peek-test', type: 'test.n' },
  body: new TextEncoder().encode(String(n)),
});

describe('RabbitMQ peek', () => {
  it('shows ready messages in queue order, twice in a row, and a member then receives them all', async () => {
    const t = await fixture.transport();
    const topic = unique('peek');
    await t.provision(topic, 'g');
    await t.publish(
      topic,
      Array.from({ length: 5 }, (_, n) => message(n)),
    );
    const first = await t.peek(topic, 'g', 3);
    expect(first.map((p) => p.message.headers.id)).toEqual(['m-0', 'm-1', 'm-2']);
    const again = await t.peek(topic, 'g', 10);
    expect(again.map((p) => p.message.headers.id)).toEqual(['m-0', 'm-1', 'm-2', 'm-3', 'm-4']);
    const consumer = fixture.consume(t, topic, 'g', 10, (d) => d.ack());
    await until(() => consumer.deliveries.length === 5, 10_000, 'all 5 delivered');
    expect(consumer.deliveries.map((d) => d.message.headers.id)).toEqual(['m-0', 'm-1', 'm-2', 'm-3', 'm-4']);
    // Each peek counted one delivery on the quorum queue (documented): m-0..m-2 were peeked twice.
    expect(consumer.deliveries[0]!.attempt).toBe(3);
    expect(consumer.deliveries[4]!.attempt).toBe(2);
  });

  it('a group with no queue yet shows nothing; a single-active-consumer queue with a member is refused', async () => {
    const t = await fixture.transport();
    const topic = unique('peek');
    expect(await t.peek(topic, 'missing', 5)).toEqual([]);
    await t.provision(topic, 'g');
    await t.publish(topic, [message(1), message(2)]);
    const member = fixture.consume(t, topic, 'g', 1);
    await until(() => member.deliveries.length === 1, 10_000, 'the member holds one');
    await expect(t.peek(topic, 'g', 5)).rejects.toBeInstanceOf(UnsupportedOperationError);
    await member.deliveries[0]!.nack();
  });
});
