import { quiet, until } from '@switchyard/conformance';
import { Bus, MessageTooLargeError, PublishBatchError } from '@switchyard/core';
import type { TransportDelivery } from '@switchyard/core/transport';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { KafkaTransport } from '../src/index.ts';
import {
  closeAll,
  collect,
  filePrefix,
  settle,
  text,
  transport,
  URL_,
  unique,
  untilMembers,
  wire,
} from './helpers.ts';
import { sweep } from './sweep.ts';

afterEach(async () => {
  await closeAll();
});

/** A new topic and group holding `n` records `m0…`, each under a key of its own (so on every partition). */
async function keyedBacklog(t: KafkaTransport, prefix: string, n: number) {
  const topic = unique(prefix);
  const group = unique('g');
  await t.provision(topic, group);
  await t.publish(
    topic,
    Array.from({ length: n }, (_, i) => wire(`m${i}`, `key-${i}`)),
  );
  return { topic, group };
}

afterAll(async () => {
  await closeAll();
  await sweep(filePrefix);
});

describe('Kafka transport on a real broker', () => {
  it('round-trips headers, body and key byte for byte', async () => {
    const t = await transport();
    const topic = unique('rt');
    const group = unique('g');
    await t.provision(topic, group);
    const body = new Uint8Array([0, 1, 2, 254, 255, 10, 13]);
    const sent = {
      headers: {
        specversion: '1.0',
        id: 'id-1',
        source: 'urn:test',
        type: 'test.binary',
        datacontenttype: 'application/octet-stream',
        partitionkey: 'k-ü',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      },
      body,
      key: 'k-ü',
    };
    await t.publish(topic, [sent]);
    const c = collect(t, topic, group);
    await until(() => c.deliveries.length === 1, 20_000, 'the delivery');
    const got = c.deliveries[0]!;
    expect(got.message.headers).toEqual(sent.headers);
    expect(got.message.key).toBe('k-ü');
    expect([...got.message.body]).toEqual([...body]);
    expect(got.attempt).toBe(1);
    await got.ack();
  });

  it('creates topics with the configured partitions (default 3) and reports lag per partition', async () => {
    const t = await transport();
    const topic = unique('lag');
    const group = unique('g');
    await t.provision(topic, group);
    await t.publish(
      topic,
      Array.from({ length: 12 }, (_, i) => wire(`m${i}`, `k${i}`)),
    );
    const before = await t.lag(topic, group);
    expect(before.map((p) => p.partition)).toEqual([0, 1, 2]);
    expect(before.reduce((sum, p) => sum + p.lag, 0)).toBe(12);
    const c = collect(t, topic, group);
    await until(() => c.deliveries.length === 12, 20_000, '12 deliveries');
    await Promise.all(c.deliveries.map((d) => d.ack()));
    const after = await t.lag(topic, group);
    expect(after.reduce((sum, p) => sum + p.lag, 0)).toBe(0);
    expect(after.every((p) => p.committed === p.highWatermark)).toBe(true);
  });

  it('keeps at most prefetch deliveries unsettled', async () => {
    const t = await transport();
    const topic = unique('pf');
    const group = unique('g');
    await t.provision(topic, group);
    await t.publish(
      topic,
      Array.from({ length: 20 }, (_, i) => wire(`m${i}`)),
    );
    const c = collect(t, topic, group, { prefetch: 3 });
    await until(() => c.deliveries.length >= 3, 20_000, 'the first deliveries');
    await quiet(() => c.deliveries.length, 1_500);
    expect(c.deliveries.length).toBe(3);
    await c.deliveries[0]!.ack();
    await until(() => c.deliveries.length >= 4, 20_000, 'one more after an ack');
    await quiet(() => c.deliveries.length, 1_000);
    expect(c.deliveries.length).toBe(4);
  });

  it('treats a second ack or nack as a no-op, and an acked record is not redelivered', async () => {
    const t = await transport();
    const topic = unique('ack');
    const group = unique('g');
    await t.provision(topic, group);
    await t.publish(topic, [wire('once', 'k')]);
    const c = collect(t, topic, group);
    await until(() => c.deliveries.length === 1, 20_000, 'the delivery');
    const d = c.deliveries[0]!;
    const first = d.ack();
    const second = d.ack();
    await expect(first).resolves.toBeUndefined();
    await expect(second).resolves.toBeUndefined();
    await d.nack();
    await quiet(() => c.deliveries.length, 1_000);
    expect(c.deliveries.length).toBe(1);
    const lag = await t.lag(topic, group);
    expect(lag.reduce((sum, p) => sum + p.lag, 0)).toBe(0);
  });

  it('redelivers a nacked record with attempt + 1, before the next record of its key', async () => {
    const t = await transport();
    const topic = unique('nack');
    const group = unique('g');
    await t.provision(topic, group);
    await t.publish(topic, [wire('first', 'k'), wire('second', 'k')]);
    const c = collect(t, topic, group, {
      onDelivery: (d) => {
        if (text(d) === 'first' && d.attempt === 1) settle(d, 'nack');
        else settle(d);
      },
    });
    await until(() => c.deliveries.length === 3, 20_000, 'three deliveries');
    expect(c.deliveries.map((d) => [text(d), d.attempt])).toEqual([
      ['first', 1],
      ['first', 2],
      ['second', 1],
    ]);
  });

  it('holds a delayed nack at least delayMs without blocking other keys', async () => {
    const t = await transport();
    const topic = unique('delay');
    const group = unique('g');
    await t.provision(topic, group);
    await t.publish(topic, [wire('slow', 'a'), wire('a-next', 'a'), wire('other', 'b')]);
    const seen: Array<{ body: string; attempt: number; at: number }> = [];
    let nackedAt = 0;
    const c = collect(t, topic, group, {
      onDelivery: (d) => {
        seen.push({ body: text(d), attempt: d.attempt, at: Date.now() });
        if (text(d) === 'slow' && d.attempt === 1) {
          nackedAt = Date.now();
          void d.nack({ delayMs: 1_500 });
        } else settle(d);
      },
    });
    await until(() => seen.length === 4, 20_000, 'four deliveries');
    const retry = seen.find((s) => s.body === 'slow' && s.attempt === 2)!;
    expect(retry.at - nackedAt).toBeGreaterThanOrEqual(1_500);
    const other = seen.find((s) => s.body === 'other')!;
    expect(other.at).toBeLessThan(retry.at);
    // Per-key order survives the retry: the next record of key `a` waits behind it.
    const next = seen.find((s) => s.body === 'a-next')!;
    expect(next.at).toBeGreaterThanOrEqual(retry.at);
    expect(c.errors).toEqual([]);
  });

  it('stops intake on unsubscribe and leaves unsettled records to the next member', async () => {
    // A gives a handler that never settles one second, then leaves; B's join waits no longer.
    const a = await transport({ drainTimeoutMs: 1_000 });
    const topic = unique('unsub');
    const group = unique('g');
    await a.provision(topic, group);
    await a.publish(
      topic,
      Array.from({ length: 6 }, (_, i) => wire(`m${i}`, 'k')),
    );
    const first = collect(a, topic, group);
    await until(() => first.deliveries.length === 1, 20_000, 'the first delivery');
    await first.deliveries[0]!.ack();
    await until(() => first.deliveries.length === 2, 20_000, 'the second delivery');
    first.subscription.unsubscribe();
    // The second delivery is never settled; a new member (another connection) gets it and the rest.
    const b = await transport();
    const second = collect(b, topic, group);
    await until(() => second.deliveries.length >= 1, 20_000, 'redelivery to the next member');
    for (let i = 0; i < 5; i++) {
      await until(() => second.deliveries.length > i, 20_000, `delivery ${i + 1}`);
      await second.deliveries[i]!.ack();
    }
    expect(second.deliveries.map(text)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
    expect(first.deliveries).toHaveLength(2);
  });

  it('starts a new group at the records published after it was provisioned, or at the earliest when asked', async () => {
    const t = await transport();
    const topic = unique('from');
    await t.provision(topic);
    await t.publish(topic, [wire('before')]);
    const latest = unique('latest');
    const earliest = unique('earliest');
    await t.provision(topic, latest);
    await t.provision(topic, earliest, 'earliest');
    await t.publish(topic, [wire('after')]);
    // Acked as they come: a rebalance on a loaded machine may hand an unacked record out again
    // (at least once), which says nothing about where each group started.
    const ack = { onDelivery: (d: TransportDelivery) => settle(d) };
    const l = collect(t, topic, latest, ack);
    const e = collect(t, topic, earliest, { from: 'earliest', ...ack });
    await until(() => l.deliveries.length >= 1 && e.deliveries.length >= 2, 20_000, 'both groups');
    await quiet(() => l.deliveries.length + e.deliveries.length, 1_000);
    expect([...new Set(l.deliveries.map(text))]).toEqual(['after']);
    expect([...new Set(e.deliveries.map(text))].sort()).toEqual(['after', 'before']);
  });

  it('fans out to every group and makes members of one group compete', async () => {
    const t1 = await transport();
    const t2 = await transport();
    const topic = unique('groups');
    const shared = unique('shared');
    const solo = unique('solo');
    await t1.provision(topic, shared);
    await t1.provision(topic, solo);
    const ack = (d: TransportDelivery) => settle(d);
    const m1 = collect(t1, topic, shared, { onDelivery: ack });
    const m2 = collect(t2, topic, shared, { onDelivery: ack });
    const s = collect(t1, topic, solo, { onDelivery: ack });
    // Both members joined before anything is published, so the group is not rebalancing under it.
    await untilMembers(`${topic}.${shared}`, 2);
    await untilMembers(`${topic}.${solo}`, 1);
    const n = 60;
    await t1.publish(
      topic,
      Array.from({ length: n }, (_, i) => wire(`m${i}`, `key-${i}`)),
    );
    await until(() => s.deliveries.length === n, 20_000, 'all records in the solo group');
    await until(
      () => m1.deliveries.length + m2.deliveries.length >= n,
      20_000,
      'all records in the shared group',
    );
    await quiet(() => m1.deliveries.length + m2.deliveries.length, 1_000);
    const shared1 = m1.deliveries.map(text);
    const shared2 = m2.deliveries.map(text);
    expect(shared1.length).toBeGreaterThan(0);
    expect(shared2.length).toBeGreaterThan(0);
    expect(new Set([...shared1, ...shared2]).size).toBe(n);
    expect(shared1.length + shared2.length).toBe(n);
  });

  it('keeps per-key order while handling different keys concurrently', async () => {
    const t = await transport();
    const topic = unique('order');
    const group = unique('g');
    await t.provision(topic, group);
    const keys = ['a', 'b', 'c', 'd', 'e'];
    const perKey = 20;
    const messages = [];
    for (let i = 0; i < perKey; i++) for (const key of keys) messages.push(wire(`${key}:${i}`, key));
    await t.publish(topic, messages);
    const handled = new Map<string, number[]>();
    let inFlight = 0;
    let maxInFlight = 0;
    const c = collect(t, topic, group, {
      prefetch: 16,
      onDelivery: (d) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        setTimeout(() => {
          const [key, seq] = text(d).split(':') as [string, string];
          handled.set(key, [...(handled.get(key) ?? []), Number(seq)]);
          inFlight--;
          settle(d);
        }, Math.random() * 10);
      },
    });
    await until(() => c.deliveries.length === keys.length * perKey, 30_000, 'all records');
    await until(() => inFlight === 0, 20_000, 'handlers');
    for (const key of keys) expect(handled.get(key)).toEqual(Array.from({ length: perKey }, (_, i) => i));
    expect(maxInFlight).toBeGreaterThan(1);
  });

  it('redelivers after a member goes away exactly the records it had not settled', async () => {
    const a = await transport();
    const topic = unique('crash');
    const group = unique('g');
    await a.provision(topic, group);
    await a.publish(
      topic,
      Array.from({ length: 8 }, (_, i) => wire(`m${i}`, 'k')),
    );
    const first = collect(a, topic, group);
    for (let i = 0; i < 4; i++) {
      await until(() => first.deliveries.length > i, 20_000, `delivery ${i}`);
      await first.deliveries[i]!.ack();
    }
    await until(() => first.deliveries.length === 5, 20_000, 'the fifth delivery');
    // Close without settling the fifth: what was acked is committed, the rest is redelivered.
    await a.close();
    const b = await transport();
    const second = collect(b, topic, group, { onDelivery: (d) => settle(d) });
    await until(() => second.deliveries.length >= 4, 20_000, 'redelivery');
    await quiet(() => second.deliveries.length, 1_000);
    expect(second.deliveries.length).toBe(4);
    expect(second.deliveries.map(text)).toEqual(['m4', 'm5', 'm6', 'm7']);
  });

  it('on a rebalance, lets handlers in flight finish and commits them before partitions move', async () => {
    const a = await transport();
    const b = await transport();
    const n = 30;
    const { topic, group } = await keyedBacklog(a, 'revoke', n);
    // A's handlers are slow: it holds 10 records unsettled, on every partition, when B joins.
    const first = collect(a, topic, group, { prefetch: 10 });
    await until(() => first.deliveries.length === 10, 20_000, "A's prefetch");
    const held = first.deliveries.slice();
    const second = collect(b, topic, group, { onDelivery: (d) => settle(d) });
    // Longer than a heartbeat and a join take: without a drain, B would own partitions by now.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    expect(second.deliveries).toHaveLength(0);
    for (const d of held) await d.ack();
    // A keeps acking whatever it gets after the rebalance.
    const ackRest = setInterval(() => {
      for (const d of first.deliveries.slice(10)) settle(d);
    }, 50);
    try {
      await until(
        () => new Set([...first.deliveries, ...second.deliveries].map(text)).size === n,
        30_000,
        'every record in the group',
      );
      await quiet(() => first.deliveries.length + second.deliveries.length, 1_500);
    } finally {
      clearInterval(ackRest);
    }
    // Nothing A had in a handler went to B as well: no record was handled twice.
    expect(first.deliveries.length + second.deliveries.length).toBe(n);
    expect(second.deliveries.length).toBeGreaterThan(0);
    expect(second.deliveries.map(text).filter((body) => held.some((d) => text(d) === body))).toEqual([]);
  });

  it('drains a backlog many windows long on its only partition (it waits for room, it does not stall)', async () => {
    const t = await transport({ partitions: 1, maxUncommittedPerPartition: 16 });
    const { topic, group } = await keyedBacklog(t, 'window', 200);
    const c = collect(t, topic, group, { prefetch: 4, onDelivery: (d) => settle(d) });
    await until(() => c.deliveries.length >= 200, 30_000, 'the whole backlog');
    expect(c.deliveries.map(text)).toEqual(Array.from({ length: 200 }, (_, i) => `m${i}`));
    expect(c.errors).toEqual([]);
  });

  it('holds a rebalance for handlers that never settle only as long as drainTimeoutMs', async () => {
    const a = await transport({ drainTimeoutMs: 3_000 });
    const b = await transport();
    const n = 12;
    const { topic, group } = await keyedBacklog(a, 'stuck', n);
    const first = collect(a, topic, group, { prefetch: n });
    await until(() => first.deliveries.length === n, 20_000, 'every record at A');
    const second = collect(b, topic, group, { onDelivery: (d) => settle(d) });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(second.deliveries).toHaveLength(0);
    // A never settles: after its drain deadline it rejoins, and B handles B's share again.
    await until(() => second.deliveries.length > 0, 20_000, "B's share after A's deadline");
    expect(first.errors).toEqual([]);
  });

  it('rejects an oversize message with MessageTooLargeError before sending, and names it in a batch', async () => {
    const t = await transport({ maxMessageBytes: 10_000 });
    const topic = unique('big');
    const big = wire('x'.repeat(10_001));
    // The declared limit is checked by core, on the bus, before the transport is asked.
    const bus = new Bus(t, { source: 'test' });
    await expect(bus.publishWire(topic, [big])).rejects.toBeInstanceOf(MessageTooLargeError);
    const error = await bus.publishWire(topic, [wire('small'), big]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MessageTooLargeError);
    expect((error as MessageTooLargeError).index).toBe(1);
    expect(PublishBatchError).toBeDefined();
  });

  it('maps a broker-side size refusal to MessageTooLargeError', async () => {
    // The declared limit is higher than what this topic accepts: the broker refuses the record.
    const t = await transport({ maxMessageBytes: 200_000, topicConfig: { 'max.message.bytes': '50000' } });
    const topic = unique('broker-big');
    await t.provision(topic);
    const error = await t.publish(topic, [wire('y'.repeat(100_000))]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MessageTooLargeError);
  });

  it('publishes a batch in one request and resolves after the broker acked all of it', async () => {
    const t = await transport();
    const topic = unique('batch');
    const group = unique('g');
    await t.provision(topic, group);
    await t.publish(
      topic,
      Array.from({ length: 500 }, (_, i) => wire(`m${i}`, `k${i % 7}`)),
    );
    const lag = await t.lag(topic, group);
    expect(lag.reduce((sum, p) => sum + p.lag, 0)).toBe(500);
  });

  it('rejects with ClosedError after close, and close leaves no sockets or timers open', async () => {
    const before = new Set(process.getActiveResourcesInfo());
    const t = new KafkaTransport(URL_);
    await t.connect();
    const topic = unique('close');
    const group = unique('g');
    await t.provision(topic, group);
    const c = collect(t, topic, group);
    await t.publish(topic, [wire('x')]);
    await until(() => c.deliveries.length === 1, 20_000, 'a delivery');
    await t.close();
    await expect(t.publish(topic, [wire('y')])).rejects.toThrow(/closed/);
    await until(
      () => {
        const now = process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'Timeout');
        const was = [...before].filter((r) => r === 'TCPSocketWrap' || r === 'Timeout');
        return now.length <= was.length;
      },
      10_000,
      'sockets and timers to close',
    );
  });
});
