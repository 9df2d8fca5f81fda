// The transport contract against a live emulator (fauxqs by default, SQS_ENDPOINT to change it).
import { GetQueueAttributesCommand, GetQueueUrlCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { Bus, MessageTooLargeError, UnsupportedOptionError, type WireMessage } from '@switchyard/core';
import type { TransportDelivery } from '@switchyard/core/transport';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { groupQueueName } from '../src/names.ts';
import { Fixture, quiet, rawClients, sweepCreated, text, unique, until } from './helpers.ts';

let fixture: Fixture;
afterEach(async () => {
  await fixture?.close();
});
afterAll(sweepCreated);

const event = (n: number, extra: Partial<WireMessage> = {}): WireMessage => ({
  headers: {
    specversion: '1.0',
    id: `e-${n}`,
    type: 't',
    source: 'tests',
    ...(extra.key ? { partitionkey: extra.key } : {}),
  },
  body: text(JSON.stringify({ n })),
  ...extra,
});

const numbers = (deliveries: TransportDelivery[]) =>
  deliveries.map((d) => (JSON.parse(new TextDecoder().decode(d.message.body)) as { n: number }).n);

for (const fanOut of ['auto', 'queues'] as const) {
  describe(`fan-out ${fanOut}`, () => {
    it('round trip: headers, body and key arrive byte-exact', async () => {
      fixture = new Fixture();
      const t = fixture.transport({ fanOut });
      const topic = unique('rt');
      await t.provision(topic, 'g');
      const sent: WireMessage[] = [
        {
          headers: { specversion: '1.0', id: 'a', type: 't', source: 's', custom: 'quote " and \\ ✓' },
          body: text('{"x":1}'),
          key: 'k',
        },
        {
          headers: { specversion: '1.0', id: 'b', type: 't', source: 's' },
          body: Uint8Array.from({ length: 256 }, (_, i) => i),
        },
        {
          headers: { specversion: '1.0', id: 'c', type: 't', source: 's', partitionkey: 'pk' },
          body: new Uint8Array(0),
          key: 'pk',
        },
      ];
      await t.publish(topic, sent);
      const got = fixture.collect(t, topic, 'g');
      await until(() => got.deliveries.length >= 3, 10_000, 'three deliveries');
      const byId = new Map(got.deliveries.map((d) => [d.message.headers.id, d.message]));
      for (const message of sent) {
        const received = byId.get(message.headers.id!)!;
        expect(received.headers).toEqual(message.headers);
        expect(Buffer.from(received.body).equals(Buffer.from(message.body))).toBe(true);
        expect(received.key).toBe(message.key);
      }
      expect(got.deliveries.every((d) => d.attempt === 1)).toBe(true);
      await Promise.all(got.deliveries.map((d) => d.ack()));
    });

    it('two groups each get every message; a group provisioned later starts at latest', async () => {
      fixture = new Fixture();
      const t = fixture.transport({ fanOut });
      const topic = unique('fan');
      await t.provision(topic, 'a');
      await t.publish(topic, [event(0)]);
      await t.provision(topic, 'b');
      await t.publish(topic, [event(1), event(2)]);
      const a = fixture.collect(t, topic, 'a');
      const b = fixture.collect(t, topic, 'b');
      await until(() => a.deliveries.length >= 3 && b.deliveries.length >= 2, 10_000, 'fan-out');
      await quiet(() => a.deliveries.length + b.deliveries.length, 1_500);
      expect(numbers(a.deliveries).sort()).toEqual([0, 1, 2]);
      expect(numbers(b.deliveries).sort()).toEqual([1, 2]);
    });
  });
}

describe('consuming', () => {
  it('members of one group compete: each message to one member, none lost', async () => {
    fixture = new Fixture();
    const t1 = fixture.transport();
    const t2 = fixture.transport();
    const topic = unique('compete');
    await t1.provision(topic, 'g');
    // Small prefetch and no acks until both hold their share, so neither can take everything.
    const m1 = fixture.collect(t1, topic, 'g', 5);
    const m2 = fixture.collect(t2, topic, 'g', 5);
    await t1.publish(
      topic,
      Array.from({ length: 20 }, (_, n) => event(n)),
    );
    await until(() => m1.deliveries.length === 5 && m2.deliveries.length === 5, 10_000, 'both members full');
    await Promise.all([...m1.deliveries, ...m2.deliveries].map((d) => d.ack()));
    await until(() => m1.deliveries.length + m2.deliveries.length >= 20, 10_000, 'all 20');
    await Promise.all([...m1.deliveries, ...m2.deliveries].map((d) => d.ack()));
    await quiet(() => m1.deliveries.length + m2.deliveries.length, 1_500);
    const all = numbers([...m1.deliveries, ...m2.deliveries]);
    expect(all.sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, n) => n));
  });

  it('honours the prefetch bound: no more than prefetch unsettled, one more after one settles', async () => {
    fixture = new Fixture();
    const t = fixture.transport();
    const topic = unique('prefetch');
    await t.provision(topic, 'g');
    await t.publish(
      topic,
      Array.from({ length: 30 }, (_, n) => event(n)),
    );
    const got = fixture.collect(t, topic, 'g', 7);
    await until(() => got.deliveries.length >= 7, 10_000, 'seven deliveries');
    await quiet(() => got.deliveries.length, 1_500);
    expect(got.deliveries).toHaveLength(7);
    await got.deliveries[0]!.ack();
    await until(() => got.deliveries.length >= 8, 10_000, 'the eighth delivery');
    await quiet(() => got.deliveries.length, 1_500);
    expect(got.deliveries).toHaveLength(8);
  });

  it('ack is idempotent and final: the second call returns the first promise, nothing is redelivered', async () => {
    fixture = new Fixture();
    const t = fixture.transport();
    const topic = unique('ack');
    await t.provision(topic, 'g');
    await t.publish(topic, [event(1)]);
    const got = fixture.collect(t, topic, 'g');
    await until(() => got.deliveries.length >= 1, 10_000, 'delivery');
    const d = got.deliveries[0]!;
    const first = d.ack();
    expect(d.ack()).toBe(first);
    expect(d.nack()).toBe(first);
    await first;
    // Past the 5 s visibility timeout: an unacked message would be back by now.
    await quiet(() => got.deliveries.length, 6_500);
    expect(got.deliveries).toHaveLength(1);
  });

  it('nack redelivers with attempt + 1; nack({ delayMs }) not before the delay', async () => {
    fixture = new Fixture();
    const t = fixture.transport();
    const topic = unique('nack');
    await t.provision(topic, 'g');
    await t.publish(topic, [event(1)]);
    const got = fixture.collect(t, topic, 'g');
    await until(() => got.deliveries.length >= 1, 10_000, 'first delivery');
    await got.deliveries[0]!.nack();
    await until(() => got.deliveries.length >= 2, 10_000, 'redelivery');
    expect(got.deliveries[1]!.attempt).toBe(got.deliveries[0]!.attempt + 1);
    const nackedAt = Date.now();
    await got.deliveries[1]!.nack({ delayMs: 1_500 });
    await until(() => got.deliveries.length >= 3, 10_000, 'delayed redelivery');
    const waited = Date.now() - nackedAt;
    expect(waited).toBeGreaterThanOrEqual(1_500);
    expect(got.deliveries[2]!.attempt).toBe(3);
    await got.deliveries[2]!.ack();
  });

  it('unsubscribe stops intake; what was held is settleable until close, then redelivered', async () => {
    fixture = new Fixture();
    const t1 = fixture.transport();
    const topic = unique('unsub');
    await t1.provision(topic, 'g');
    await t1.publish(topic, [event(1)]);
    const first = fixture.collect(t1, topic, 'g');
    await until(() => first.deliveries.length >= 1, 10_000, 'delivery');
    first.subscription!.unsubscribe();
    await t1.publish(topic, [event(2)]);
    const t2 = fixture.transport();
    const second = fixture.collect(t2, topic, 'g');
    await until(() => second.deliveries.length >= 1, 10_000, 'event 2 at the other member');
    expect(numbers(second.deliveries)).toEqual([2]);
    expect(first.deliveries).toHaveLength(1);
    // Still held by the unsubscribed member (its lease kept) until its transport closes.
    await quiet(() => second.deliveries.length, 6_500);
    expect(second.deliveries).toHaveLength(1);
    await t1.close();
    await until(() => second.deliveries.length >= 2, 10_000, 'redelivery after close');
    expect(numbers(second.deliveries)).toEqual([2, 1]);
    expect(second.deliveries[1]!.attempt).toBe(2);
  });

  it('keeps the lease of a delivery held past the visibility timeout', async () => {
    fixture = new Fixture();
    const t1 = fixture.transport({ visibilityTimeoutSeconds: 2 });
    const t2 = fixture.transport({ visibilityTimeoutSeconds: 2 });
    const topic = unique('lease');
    await t1.provision(topic, 'g');
    const holder = fixture.collect(t1, topic, 'g');
    await t1.publish(topic, [event(1)]);
    await until(() => holder.deliveries.length >= 1, 10_000, 'delivery');
    const other = fixture.collect(t2, topic, 'g');
    await quiet(() => other.deliveries.length + holder.deliveries.length, 5_000);
    expect(other.deliveries).toHaveLength(0);
    expect(holder.deliveries).toHaveLength(1);
    await holder.deliveries[0]!.ack();
  });

  it('provisioning a new group from earliest is refused: SQS cannot replay', async () => {
    fixture = new Fixture();
    const t = fixture.transport();
    const topic = unique('earliest');
    await expect(t.provision(topic, 'g', 'earliest')).rejects.toBeInstanceOf(UnsupportedOptionError);
    await t.provision(topic, 'g');
    await expect(t.provision(topic, 'g', 'earliest')).resolves.toBeUndefined();
  });

  it('FIFO: one key in publish order across members, and a duplicate event id stored once', async () => {
    fixture = new Fixture();
    const t1 = fixture.transport({ fifo: true });
    const t2 = fixture.transport({ fifo: true });
    expect(t1.capabilities.keyOrderAcrossMembers).toBe(true);
    const topic = unique('fifo');
    await t1.provision(topic, 'g');
    const messages = Array.from({ length: 30 }, (_, n) => event(n, { key: `k${n % 3}` }));
    await t1.publish(topic, [...messages, messages[0]!]);
    const log: Array<{ key: string; n: number }> = [];
    const record = (d: TransportDelivery) => {
      log.push({
        key: d.message.key!,
        n: (JSON.parse(new TextDecoder().decode(d.message.body)) as { n: number }).n,
      });
      return d.ack();
    };
    const subs = [t1, t2].map((t) =>
      t.subscribe(topic, { group: 'g', prefetch: 10 }).subscribe((d) => void record(d)),
    );
    await until(() => log.length >= 30, 20_000, 'thirty deliveries');
    await quiet(() => log.length, 1_500);
    for (const s of subs) s.unsubscribe();
    expect(log).toHaveLength(30);
    for (const key of ['k0', 'k1', 'k2']) {
      const ns = log.filter((h) => h.key === key).map((h) => h.n);
      expect(ns).toEqual([...ns].sort((x, y) => x - y));
    }
  });

  it('a foreign message (no CloudEvents attributes) is delivered with no headers', async () => {
    fixture = new Fixture();
    const t = fixture.transport();
    const topic = unique('foreign');
    await t.provision(topic, 'g');
    const raw = rawClients();
    try {
      const { QueueUrl } = await raw.sqs.send(
        new GetQueueUrlCommand({ QueueName: groupQueueName('', topic, 'g', false) }),
      );
      await raw.sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'plain bytes' }));
    } finally {
      raw.sqs.destroy();
      raw.sns.destroy();
    }
    const got = fixture.collect(t, topic, 'g');
    await until(() => got.deliveries.length >= 1, 10_000, 'foreign message');
    expect(got.deliveries[0]!.message.headers).toEqual({});
    expect(got.texts()).toEqual(['plain bytes']);
  });
});

describe('publishing', () => {
  it('a batch of 25 goes in chunks of 10 and arrives complete (standard queue: in any order)', async () => {
    fixture = new Fixture();
    const t = fixture.transport();
    const topic = unique('batch');
    await t.provision(topic, 'g');
    await t.publish(
      topic,
      Array.from({ length: 25 }, (_, n) => event(n, { key: 'same' })),
    );
    const got = fixture.collect(t, topic, 'g');
    await until(() => got.deliveries.length >= 25, 10_000, '25 deliveries');
    await quiet(() => got.deliveries.length, 1_500);
    // ElasticMQ (like AWS) reorders messages sent in one batch; fauxqs keeps them in order.
    expect(numbers(got.deliveries).sort((x, y) => x - y)).toEqual(Array.from({ length: 25 }, (_, n) => n));
  });

  it('FIFO: a batch of 25 on one key arrives in publish order', async () => {
    fixture = new Fixture();
    const t = fixture.transport({ fifo: true });
    const topic = unique('batchfifo');
    await t.provision(topic, 'g');
    await t.publish(
      topic,
      Array.from({ length: 25 }, (_, n) => event(n, { key: 'same' })),
    );
    const got = fixture.collect(t, topic, 'g');
    const acked = new Set<TransportDelivery>();
    // A FIFO queue hands out the next message of a key only after the previous one is deleted.
    await until(
      () => {
        for (const d of got.deliveries) {
          if (acked.has(d)) continue;
          acked.add(d);
          void d.ack();
        }
        return got.deliveries.length >= 25;
      },
      20_000,
      '25 deliveries',
    );
    expect(numbers(got.deliveries)).toEqual(Array.from({ length: 25 }, (_, n) => n));
  });

  it('a message over the limit rejects with MessageTooLargeError and nothing is sent; one at the limit arrives', async () => {
    fixture = new Fixture();
    const t = fixture.transport();
    const topic = unique('size');
    await t.provision(topic, 'g');
    const headers = { specversion: '1.0', id: 'big', type: 't', source: 's' };
    const overhead = Object.entries(headers).reduce((n, [k, v]) => n + k.length + v.length, 0);
    const max = t.capabilities.maxMessageBytes;
    const fits = { headers, body: new Uint8Array(max - overhead).fill(0xfe) };
    const over = { headers, body: new Uint8Array(max - overhead + 1).fill(0xfe) };
    // The declared limit is checked by core, on the bus, before the transport is asked.
    const bus = new Bus(t, { source: 'test' });
    await expect(bus.publishWire(topic, [event(0), over])).rejects.toMatchObject({
      name: 'MessageTooLargeError',
      index: 1,
    });
    await expect(bus.publishWire(topic, [over])).rejects.toBeInstanceOf(MessageTooLargeError);
    await t.publish(topic, [fits]);
    const got = fixture.collect(t, topic, 'g');
    await until(() => got.deliveries.length >= 1, 10_000, 'the message at the limit');
    await quiet(() => got.deliveries.length, 1_500);
    expect(got.deliveries).toHaveLength(1);
    expect(Buffer.from(got.deliveries[0]!.message.body).equals(Buffer.from(fits.body))).toBe(true);
  });
});

describe('closing', () => {
  it('close() waits for polls, releases what is held, and leaves no open handle', async () => {
    const before = new Set(process.getActiveResourcesInfo());
    const count = (kind: string) => process.getActiveResourcesInfo().filter((r) => r === kind).length;
    const baseline = { sockets: count('TCPSocketWrap'), timers: count('Timeout') };
    fixture = new Fixture();
    const t = fixture.transport();
    const topic = unique('close');
    await t.provision(topic, 'g');
    await t.publish(topic, [event(1)]);
    const got = fixture.collect(t, topic, 'g');
    await until(() => got.deliveries.length >= 1, 10_000, 'delivery');
    const started = Date.now();
    await t.close();
    expect(Date.now() - started).toBeLessThan(3_000);
    await expect(t.publish(topic, [event(2)])).rejects.toMatchObject({ name: 'ClosedError' });
    await until(
      () => count('TCPSocketWrap') <= baseline.sockets && count('Timeout') <= baseline.timers,
      5_000,
      `resources left: ${process.getActiveResourcesInfo().filter((r) => !before.has(r))}`,
    );
    // Released at close: another member gets it at once, with its receive count.
    const other = fixture.transport();
    const again = fixture.collect(other, topic, 'g');
    await until(() => again.deliveries.length >= 1, 10_000, 'redelivery');
    expect(again.deliveries[0]!.attempt).toBe(2);
  });

  it('creates a group queue with the visibility timeout it leases with', async () => {
    fixture = new Fixture();
    const t = fixture.transport({ visibilityTimeoutSeconds: 9 });
    const topic = unique('attrs');
    await t.provision(topic, 'g');
    const raw = rawClients();
    try {
      const { QueueUrl } = await raw.sqs.send(
        new GetQueueUrlCommand({ QueueName: groupQueueName('', topic, 'g', false) }),
      );
      const { Attributes } = await raw.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['VisibilityTimeout'] }),
      );
      expect(Attributes?.VisibilityTimeout).toBe('9');
    } finally {
      raw.sqs.destroy();
      raw.sns.destroy();
    }
  });
});
