import { Bus, ClosedError, type LogEntry, MessageTooLargeError } from '@switchyard/core';
import { encodedSize, type TransportDelivery } from '@switchyard/core/transport';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Collector, Fixture, message, unique, until } from './helpers.ts';

let fixture: Fixture;
beforeEach(() => {
  fixture = new Fixture();
});
afterEach(async () => {
  await fixture.close();
});

describe('publish → subscribe', () => {
  it('round-trips headers, body and key byte for byte', async () => {
    const transport = await fixture.transport();
    const topic = fixture.topic();
    const group = unique('g');
    await transport.provision(topic, group);
    const body = new Uint8Array(256).map((_, i) => i);
    const sent = {
      headers: {
        specversion: '1.0',
        id: 'id-1',
        source: 'urn:test',
        type: 'com.example.thing',
        datacontenttype: 'application/octet-stream',
        partitionkey: 'key-1',
        subject: '  padded, ünïcödé 🚀 ',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        dataversion: '3',
      },
      body,
      key: 'key-1',
    };
    const other = { ...message(), key: 'routing-key' };
    await transport.publish(topic, [sent, other]);

    const collector = new Collector(transport, topic, { group });
    const [first, second] = await collector.atLeast(2);
    expect(first!.message.headers).toEqual(sent.headers);
    expect(Buffer.from(first!.message.body).equals(Buffer.from(body))).toBe(true);
    expect(first!.message.key).toBe('key-1');
    expect(first!.attempt).toBe(1);
    // A key that is not the partitionkey attribute travels on its own, without inventing one.
    expect(second!.message.key).toBe('routing-key');
    expect(second!.message.headers).toEqual(other.headers);
    collector.unsubscribe();
  });

  it('stores an event id once within the duplicate window, and says which publishes it dropped', async () => {
    const transport = await fixture.transport();
    const topic = fixture.topic();
    const m = message({ id: unique('dup') });
    const other = message({ id: unique('other') });
    expect(await transport.publish(topic, [m])).toBeUndefined();
    expect(await transport.publish(topic, [other, m, m])).toEqual({ duplicates: [1, 2] });
    expect(await fixture.streamMessages(topic)).toBe(2);
  });

  it('the bus warns once per dropped event id, naming the topic and id and no payload', async () => {
    const lines: LogEntry[] = [];
    const bus = new Bus(await fixture.transport(), { source: 'test', logger: (entry) => lines.push(entry) });
    const topic = fixture.topic();
    const first = await bus.publish(topic, { type: 't', data: { secret: 'payload-xyz' } });
    expect(lines).toEqual([]);
    await bus.publish(topic, { type: 't', id: first.id, data: { secret: 'payload-xyz' } });
    expect(lines).toHaveLength(1);
    expect(lines[0]!.level).toBe('warn');
    expect(lines[0]!.message).toContain(first.id);
    expect(lines[0]!.message).toContain(topic);
    expect(lines[0]!.message).not.toContain('payload-xyz');
  });

  it('rejects an oversize message with MessageTooLargeError before sending anything', async () => {
    const transport = await fixture.transport();
    const topic = fixture.topic();
    const limit = transport.capabilities.maxMessageBytes;
    const fits = message();
    const atLimit = {
      ...fits,
      body: new Uint8Array(limit - encodedSize({ ...fits, body: new Uint8Array(0) })),
    };
    expect(encodedSize(atLimit)).toBe(limit);
    const tooBig = { ...message(), body: new Uint8Array(limit + 1) };

    // The declared limit is checked by core, on the bus, before the transport is asked.
    const error = await new Bus(transport, { source: 'test' })
      .publishWire(topic, [message(), tooBig])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MessageTooLargeError);
    expect((error as MessageTooLargeError).index).toBe(1);
    expect((error as MessageTooLargeError).limit).toBe(limit);

    // The declared limit is one the server really accepts, headers included.
    await transport.publish(topic, [atLimit]);
    expect(await fixture.streamMessages(topic)).toBe(1);
  });
});

describe('consumer groups', () => {
  it('starts a new group at latest after provision, or at earliest when asked', async () => {
    const transport = await fixture.transport();
    const topic = fixture.topic();
    const before = message({ data: 'before' });
    await transport.publish(topic, [before]);
    const latest = unique('latest');
    const earliest = unique('earliest');
    await transport.provision(topic, latest);
    await transport.provision(topic, earliest, 'earliest');
    // Provisioning again changes nothing: still positioned where it was.
    await transport.provision(topic, latest, 'earliest');
    const after = message({ data: 'after' });
    await transport.publish(topic, [after]);

    const fromLatest = new Collector(transport, topic, { group: latest });
    const fromEarliest = new Collector(transport, topic, { group: earliest });
    await fromLatest.atLeast(1);
    await fromEarliest.atLeast(2);
    expect(fromLatest.ids()).toEqual([after.headers.id]);
    expect(fromEarliest.ids()).toEqual([before.headers.id, after.headers.id]);
    await Promise.all([...fromLatest.deliveries, ...fromEarliest.deliveries].map((d) => d.ack()));
    const info = await fixture.consumerInfo(topic, latest);
    expect(info.num_pending).toBe(0);
    expect(info.num_ack_pending).toBe(0);
  });

  it('fans out to every group', async () => {
    const transport = await fixture.transport();
    const topic = fixture.topic();
    const [a, b] = [unique('a'), unique('b')];
    await transport.provision(topic, a);
    await transport.provision(topic, b);
    const sent = [message(), message(), message()];
    await transport.publish(topic, sent);
    const ca = new Collector(transport, topic, { group: a }, (d) => d.ack());
    const cb = new Collector(transport, topic, { group: b }, (d) => d.ack());
    await ca.atLeast(3);
    await cb.atLeast(3);
    await Promise.all([ca.settled(), cb.settled()]);
    const ids = sent.map((m) => m.headers.id);
    expect(ca.ids()).toEqual(ids);
    expect(cb.ids()).toEqual(ids);
  });

  it('makes members of one group compete: each message goes to one of them', async () => {
    const one = await fixture.transport();
    const two = await fixture.transport();
    const topic = fixture.topic();
    const group = unique('g');
    await one.provision(topic, group);
    // Small prefetch so neither member can take everything at once.
    const slowAck = (d: TransportDelivery) => new Promise<void>((r) => setTimeout(r, 20)).then(() => d.ack());
    const c1 = new Collector(one, topic, { group, prefetch: 2 }, slowAck);
    const c2 = new Collector(two, topic, { group, prefetch: 2 }, slowAck);
    const sent = Array.from({ length: 40 }, () => message());
    await one.publish(topic, sent);
    await until(() => c1.deliveries.length + c2.deliveries.length >= 40);
    const received = [...c1.ids(), ...c2.ids()];
    expect(new Set(received).size).toBe(40);
    expect(received).toHaveLength(40);
    expect(c1.deliveries.length).toBeGreaterThan(0);
    expect(c2.deliveries.length).toBeGreaterThan(0);
    await Promise.all([c1.settled(), c2.settled()]);
    await until(async () => (await fixture.consumerInfo(topic, group)).num_ack_pending === 0);
  });

  it('keeps publish order for one key within a member', async () => {
    const transport = await fixture.transport();
    const topic = fixture.topic();
    const group = unique('g');
    await transport.provision(topic, group);
    const sent = Array.from({ length: 200 }, (_, i) => message({ key: `k${i % 3}` }));
    for (let i = 0; i < sent.length; i += 50) await transport.publish(topic, sent.slice(i, i + 50));
    const collector = new Collector(transport, topic, { group, prefetch: 16 }, (d) => d.ack());
    await collector.atLeast(200);
    await collector.settled();
    expect(collector.ids()).toEqual(sent.map((m) => m.headers.id));
  });
});

describe('settling', () => {
  it('never hands out more than prefetch unsettled deliveries', async () => {
    const transport = await fixture.transport();
    const topic = fixture.topic();
    const group = unique('g');
    await transport.provision(topic, group);
    await transport.publish(
      topic,
      Array.from({ length: 30 }, () => message()),
    );
    let unsettled = 0;
    let most = 0;
    const acks: Promise<void>[] = [];
    const collector = new Collector(transport, topic, { group, prefetch: 5 }, (d) => {
      unsettled++;
      most = Math.max(most, unsettled);
      // Settle later, so the member runs at its bound for a while.
      acks.push(
        new Promise((resolve) => setTimeout(resolve, 30)).then(() => {
          unsettled--;
          return d.ack();
        }),
      );
    });
    await collector.atLeast(30);
    await until(() => acks.length === 30);
    await Promise.all(acks);
    expect(most).toBe(5);
  });

  it('makes ack idempotent and confirmed: a later nack changes nothing', async () => {
    const transport = await fixture.transport();
    const topic = fixture.topic();
    const group = unique('g');
    await transport.provision(topic, group);
    await transport.publish(topic, [message()]);
    const collector = new Collector(transport, topic, { group });
    const [delivery] = await collector.atLeast(1);
    await delivery!.ack();
    await delivery!.ack();
    await delivery!.nack();
    const info = await fixture.consumerInfo(topic, group);
    expect(info.num_ack_pending).toBe(0);
    expect(info.num_redelivered).toBe(0);
    expect(info.ack_floor.stream_seq).toBe(1);
  });

  it('redelivers a nacked message with attempt + 1', async () => {
    const transport = await fixture.transport();
    const topic = fixture.topic();
    const group = unique('g');
    await transport.provision(topic, group);
    const sent = message();
    await transport.publish(topic, [sent]);
    const collector = new Collector(transport, topic, { group }, (d) => {
      return d.attempt < 3 ? d.nack() : d.ack();
    });
    await collector.atLeast(3);
    await collector.settled();
    expect(collector.deliveries.map((d) => d.attempt)).toEqual([1, 2, 3]);
    expect(new Set(collector.ids())).toEqual(new Set([sent.headers.id]));
  });

  it('holds a nack with delay on the server for at least delayMs', async () => {
    const transport = await fixture.transport();
    const topic = fixture.topic();
    const group = unique('g');
    await transport.provision(topic, group);
    await transport.publish(topic, [message()]);
    let nackedAt = 0;
    const collector = new Collector(transport, topic, { group }, (d) => {
      if (d.attempt === 1) {
        nackedAt = Date.now();
        return d.nack({ delayMs: 1_500 });
      }
      return d.ack();
    });
    await collector.atLeast(2);
    await collector.settled();
    expect(collector.times[1]! - nackedAt).toBeGreaterThanOrEqual(1_500);
    expect(collector.deliveries[1]!.attempt).toBe(2);
  });

  it('keeps the lease of a slow delivery well past ack_wait', async () => {
    const transport = await fixture.transport({ ackWaitMs: 1_000 });
    const topic = fixture.topic();
    const group = unique('g');
    await transport.provision(topic, group);
    await transport.publish(topic, [message()]);
    const collector = new Collector(transport, topic, { group });
    const [delivery] = await collector.atLeast(1);
    // Nothing to poll for: the point is that three ack_waits pass without a redelivery.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(collector.deliveries).toHaveLength(1);
    expect((await fixture.consumerInfo(topic, group)).num_redelivered).toBe(0);
    await delivery!.ack();
  });
});

describe('unsubscribe and close', () => {
  it('stops intake on unsubscribe and leaves unsettled deliveries for redelivery', async () => {
    const transport = await fixture.transport();
    const topic = fixture.topic();
    const group = unique('g');
    await transport.provision(topic, group);
    const first = [message(), message(), message()];
    await transport.publish(topic, first);
    const leaving = new Collector(transport, topic, { group, prefetch: 10 });
    await leaving.atLeast(3);
    leaving.unsubscribe();
    const later = [message(), message()];
    await transport.publish(topic, later);
    const info = await fixture.consumerInfo(topic, group);
    expect(info.num_pending).toBe(2);
    expect(info.num_ack_pending).toBe(3);

    // The unsettled three come back (after ack_wait, nobody renews them) with attempt 2.
    const staying = new Collector(transport, topic, { group, prefetch: 10 }, (d) => d.ack());
    await staying.atLeast(5);
    await staying.settled();
    expect(leaving.deliveries).toHaveLength(3);
    const attempts = new Map(staying.deliveries.map((d) => [d.message.headers.id, d.attempt]));
    for (const m of first) expect(attempts.get(m.headers.id)).toBe(2);
    for (const m of later) expect(attempts.get(m.headers.id)).toBe(1);
  });

  it('close() completes subscriptions, rejects later calls and leaves no open handles', async () => {
    const countOf = (kind: string) => process.getActiveResourcesInfo().filter((r) => r === kind).length;
    // Measured while polling, like the check at the end, so the poll's own timer is in both.
    let timers = 0;
    await until(() => {
      timers = countOf('Timeout');
      return countOf('TCPSocketWrap') === 0;
    });
    const transport = await fixture.transport();
    const topic = fixture.topic();
    const group = unique('g');
    await transport.provision(topic, group);
    const collector = new Collector(transport, topic, { group });
    await transport.publish(topic, [message()]);
    await collector.atLeast(1);
    expect(countOf('TCPSocketWrap')).toBe(1);

    await transport.close();
    await transport.close();
    expect(collector.completed).toBe(true);
    await expect(transport.publish(topic, [message()])).rejects.toBeInstanceOf(ClosedError);
    await expect(collector.deliveries[0]!.ack()).rejects.toBeInstanceOf(ClosedError);
    await until(() => countOf('TCPSocketWrap') === 0 && countOf('Timeout') <= timers, 5_000);
  });
});
