import {
  Bus,
  ClosedError,
  MessageTooLargeError,
  TransportError,
  UnsupportedOptionError,
  type WireMessage,
} from '@switchyard/core';
import { connect as amqpConnect } from 'amqplib';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  AMQP_URL,
  closeFromServer,
  connectionsNamed,
  Fixture,
  filePrefix,
  hasRabbitmqctl,
  quiet,
  unique,
  until,
} from './helpers.ts';
import { sweep } from './sweep.ts';

const fixture = new Fixture();
const canCloseFromServer = await hasRabbitmqctl();
afterAll(() => sweep(filePrefix));
afterEach(() => fixture.close());

const ALL_BYTES = Uint8Array.from({ length: 256 }, (_, i) => i);

function message(n: number, key?: string): WireMessage {
  return {
    headers: {
      specversion: '1.0',
      id: `id-${n}`,
      source: 'test',
      type: 't',
      ...(key ? { partitionkey: key } : {}),
    },
    body: new TextEncoder().encode(String(n)),
    key,
  };
}

const bodyOf = (m: WireMessage) => new TextDecoder().decode(m.body);

describe('RabbitMQ transport', () => {
  it('round trip keeps headers, body and key byte-exact, mapped to AMQP as documented', async () => {
    const t = await fixture.transport();
    const topic = unique('rt');
    await t.provision(topic, 'g');
    // A raw queue on the same exchange shows what is on the wire.
    const raw = await amqpConnect(AMQP_URL);
    const channel = await raw.createChannel();
    const { queue } = await channel.assertQueue('', { exclusive: true });
    await channel.bindQueue(queue, topic, '#');
    const sent: WireMessage = {
      headers: {
        specversion: '1.0',
        id: 'rt-1',
        source: 'urn:test',
        type: 'com.example.t',
        datacontenttype: 'application/octet-stream',
        partitionkey: 'order-42',
        subject: 'héllo ✓ "quoted"',
        custom: '',
      },
      body: ALL_BYTES,
      key: 'order-42',
    };
    await t.publish(topic, [sent]);
    const { deliveries } = fixture.consume(t, topic, 'g');
    await until(() => deliveries.length === 1, 10_000, 'delivery');
    const got = deliveries[0]!;
    expect(got.message.headers).toEqual(sent.headers);
    expect(Buffer.from(got.message.body).equals(Buffer.from(ALL_BYTES))).toBe(true);
    expect(got.message.key).toBe('order-42');
    expect(got.attempt).toBe(1);
    await got.ack();

    const onWire = await channel.get(queue, { noAck: true });
    await raw.close();
    expect(onWire).not.toBe(false);
    if (onWire === false) return;
    expect(onWire.fields.routingKey).toBe('order-42');
    expect(onWire.properties.contentType).toBe('application/octet-stream');
    expect(onWire.properties.deliveryMode).toBe(2);
    expect(onWire.properties.headers).toMatchObject({
      'cloudEvents:id': 'rt-1',
      'cloudEvents:partitionkey': 'order-42',
    });
    expect(onWire.properties.headers?.['cloudEvents:datacontenttype']).toBeUndefined();
  });

  it('honours the prefetch bound: no more than prefetch unsettled, the next arrives once one is acked', async () => {
    const t = await fixture.transport();
    const topic = unique('prefetch');
    await t.provision(topic, 'g');
    await t.publish(
      topic,
      Array.from({ length: 20 }, (_, n) => message(n)),
    );
    const { deliveries } = fixture.consume(t, topic, 'g', 5);
    await until(() => deliveries.length >= 5, 10_000, 'five deliveries');
    await quiet(() => deliveries.length, 500);
    expect(deliveries).toHaveLength(5);
    await deliveries[0]!.ack();
    await until(() => deliveries.length >= 6, 10_000, 'a sixth delivery after one ack');
    await quiet(() => deliveries.length, 500);
    expect(deliveries).toHaveLength(6);
  });

  it('ack is idempotent: a second ack resolves and does not break the channel', async () => {
    const t = await fixture.transport();
    const topic = unique('ack');
    await t.provision(topic, 'g');
    await t.publish(topic, [message(1)]);
    const { deliveries } = fixture.consume(t, topic, 'g');
    await until(() => deliveries.length === 1, 10_000, 'delivery');
    await deliveries[0]!.ack();
    await expect(deliveries[0]!.ack()).resolves.toBeUndefined();
    await expect(deliveries[0]!.nack()).resolves.toBeUndefined();
    // A double ack on AMQP would close the channel (406): the next message proves it is alive.
    await t.publish(topic, [message(2)]);
    await until(() => deliveries.length === 2, 10_000, 'the next delivery on the same channel');
    expect(bodyOf(deliveries[1]!.message)).toBe('2');
    await deliveries[1]!.ack();
    await quiet(() => deliveries.length, 500);
    expect(deliveries).toHaveLength(2);
  });

  it('nack redelivers with attempt + 1 (from the quorum queue x-delivery-count)', async () => {
    const t = await fixture.transport();
    const topic = unique('nack');
    await t.provision(topic, 'g');
    await t.publish(topic, [message(1)]);
    const { deliveries } = fixture.consume(
      t,
      topic,
      'g',
      10,
      (d) => void (d.attempt < 3 ? d.nack() : d.ack()),
    );
    await until(() => deliveries.length === 3, 10_000, 'three attempts');
    expect(deliveries.map((d) => d.attempt)).toEqual([1, 2, 3]);
    expect(deliveries.map((d) => bodyOf(d.message))).toEqual(['1', '1', '1']);
  });

  it('nack with delayMs is not redelivered earlier, and keeps counting attempts through the delay queue', async () => {
    const t = await fixture.transport();
    const topic = unique('delay');
    await t.provision(topic, 'g');
    await t.publish(topic, [message(1, 'k')]);
    const at: number[] = [];
    const { deliveries } = fixture.consume(t, topic, 'g', 10, (d) => {
      at.push(performance.now());
      void (d.attempt === 1 ? d.nack({ delayMs: 1_300 }) : d.ack());
    });
    await until(() => deliveries.length === 2, 15_000, 'the delayed redelivery');
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(1_300);
    expect(at[1]! - at[0]!).toBeLessThan(4_000);
    expect(deliveries[1]!.attempt).toBe(2);
    expect(deliveries[1]!.message).toEqual(deliveries[0]!.message);
  });

  it('unsubscribe stops intake; what it held unsettled is redelivered after close', async () => {
    const first = await fixture.transport();
    const topic = unique('unsub');
    await first.provision(topic, 'g');
    await first.publish(topic, [message(1)]);
    const a = fixture.consume(first, topic, 'g');
    await until(() => a.deliveries.length === 1, 10_000, 'delivery');
    a.subscription.unsubscribe();
    await first.publish(topic, [message(2)]);
    await quiet(() => a.deliveries.length, 500);
    expect(a.deliveries).toHaveLength(1);
    await first.close();
    // Settling after close cannot reach the broker: it says so instead of pretending.
    await expect(a.deliveries[0]!.ack()).rejects.toBeInstanceOf(TransportError);
    const second = await fixture.transport();
    const b = fixture.consume(second, topic, 'g', 10, (d) => void d.ack());
    await until(() => b.deliveries.length === 2, 10_000, 'both messages on the next member');
    expect(b.deliveries.map((d) => bodyOf(d.message)).sort()).toEqual(['1', '2']);
    expect(b.deliveries.find((d) => bodyOf(d.message) === '1')!.attempt).toBe(2);
  });

  it('deliveries stay settleable after unsubscribe until close', async () => {
    const t = await fixture.transport();
    const topic = unique('late');
    await t.provision(topic, 'g');
    await t.publish(topic, [message(1)]);
    const a = fixture.consume(t, topic, 'g');
    await until(() => a.deliveries.length === 1, 10_000, 'delivery');
    a.subscription.unsubscribe();
    await a.deliveries[0]!.ack();
    const b = fixture.consume(t, topic, 'g', 10, (d) => void d.ack());
    await t.publish(topic, [message(2)]);
    await until(() => b.deliveries.length === 1, 10_000, 'the next message');
    await quiet(() => b.deliveries.length, 500);
    expect(b.deliveries.map((d) => bodyOf(d.message))).toEqual(['2']);
  });

  it('a new group starts at the latest message after provision', async () => {
    const t = await fixture.transport();
    const topic = unique('latest');
    await t.provision(topic);
    await t.publish(topic, [message(1)]);
    await t.provision(topic, 'late');
    await t.publish(topic, [message(2)]);
    const { deliveries } = fixture.consume(t, topic, 'late', 10, (d) => void d.ack());
    await until(() => deliveries.length >= 1, 10_000, 'delivery');
    await quiet(() => deliveries.length, 500);
    expect(deliveries.map((d) => bodyOf(d.message))).toEqual(['2']);
  });

  it("refuses from: 'earliest' for a group that does not exist yet, accepts it for one that does", async () => {
    const t = await fixture.transport();
    const topic = unique('earliest');
    await expect(t.provision(topic, 'new', 'earliest')).rejects.toBeInstanceOf(UnsupportedOptionError);
    await t.provision(topic, 'old');
    await expect(t.provision(topic, 'old', 'earliest')).resolves.toBeUndefined();
  });

  it('two groups each get every message', async () => {
    const t = await fixture.transport();
    const topic = unique('fan');
    await t.provision(topic, 'a');
    await t.provision(topic, 'b');
    await t.publish(
      topic,
      Array.from({ length: 10 }, (_, n) => message(n)),
    );
    const a = fixture.consume(t, topic, 'a', 10, (d) => void d.ack());
    const b = fixture.consume(t, topic, 'b', 10, (d) => void d.ack());
    await until(() => a.deliveries.length >= 10 && b.deliveries.length >= 10, 10_000, 'both groups');
    await quiet(() => a.deliveries.length + b.deliveries.length, 500);
    const bodies = (x: typeof a) => x.deliveries.map((d) => bodyOf(d.message));
    expect(bodies(a)).toEqual(bodies(b));
    expect(bodies(a)).toHaveLength(10);
  });

  it('members of one group compete: with single active consumer one receives, the standby takes over when it leaves', async () => {
    const t1 = await fixture.transport();
    const t2 = await fixture.transport();
    const topic = unique('sac');
    await t1.provision(topic, 'g');
    const a = fixture.consume(t1, topic, 'g', 10, (d) => void d.ack());
    await t1.publish(topic, [message(0)]);
    await until(() => a.deliveries.length === 1, 10_000, 'the first member is active');
    const b = fixture.consume(t2, topic, 'g', 10, (d) => void d.ack());
    await t1.publish(
      topic,
      Array.from({ length: 9 }, (_, n) => message(n + 1)),
    );
    await until(() => a.deliveries.length === 10, 10_000, 'the active member gets the rest');
    expect(b.deliveries).toHaveLength(0);
    await t1.close();
    await t2.publish(topic, [message(10)]);
    await until(() => b.deliveries.length === 1, 10_000, 'the standby takes over');
    expect(bodyOf(b.deliveries[0]!.message)).toBe('10');
  });

  it('members of one group compete message by message without single active consumer', async () => {
    const options = { singleActiveConsumer: false };
    const t1 = await fixture.transport(options);
    const t2 = await fixture.transport(options);
    expect(t1.capabilities.keyOrderAcrossMembers).toBe(false);
    const topic = unique('compete');
    await t1.provision(topic, 'g');
    const a = fixture.consume(t1, topic, 'g', 1, (d) => void setTimeout(() => void d.ack(), 5));
    const b = fixture.consume(t2, topic, 'g', 1, (d) => void setTimeout(() => void d.ack(), 5));
    await t1.publish(
      topic,
      Array.from({ length: 40 }, (_, n) => message(n)),
    );
    await until(() => a.deliveries.length + b.deliveries.length >= 40, 10_000, 'all 40');
    await quiet(() => a.deliveries.length + b.deliveries.length, 500);
    const all = [...a.deliveries, ...b.deliveries].map((d) => bodyOf(d.message));
    expect(new Set(all).size).toBe(40);
    expect(all).toHaveLength(40);
    expect(a.deliveries.length).toBeGreaterThan(0);
    expect(b.deliveries.length).toBeGreaterThan(0);
  });

  it('keeps per-key publish order within a member', async () => {
    const t = await fixture.transport();
    const topic = unique('order');
    await t.provision(topic, 'g');
    const sent = Array.from({ length: 200 }, (_, n) => message(n, `k${n % 4}`));
    await Promise.all([t.publish(topic, sent.slice(0, 100)), t.publish(topic, sent.slice(100))]);
    const { deliveries } = fixture.consume(t, topic, 'g', 50, (d) => void d.ack());
    await until(() => deliveries.length === 200, 10_000, 'all 200');
    for (const key of ['k0', 'k1', 'k2', 'k3']) {
      const ns = deliveries.filter((d) => d.message.key === key).map((d) => Number(bodyOf(d.message)));
      expect(ns).toEqual([...ns].sort((x, y) => x - y));
    }
  });

  it('declares a topic again when its exchange was deleted behind its back: the next publish lands', async () => {
    const t = await fixture.transport({ publishTimeoutMs: 5_000 });
    const topic = unique('gone');
    await t.provision(topic, 'g');
    await t.publish(topic, [message(1)]);
    const raw = await amqpConnect(AMQP_URL);
    try {
      const channel = await raw.createChannel();
      await channel.deleteExchange(topic);
      await channel.close();
    } finally {
      await raw.close();
    }
    // The send hits a missing exchange (404 closes the channel); it is declared again and resent.
    await expect(t.publish(topic, [message(2)])).resolves.toBeUndefined();
    const check = await amqpConnect(AMQP_URL);
    try {
      const channel = await check.createChannel();
      await expect(channel.checkExchange(topic)).resolves.toBeDefined();
    } finally {
      await check.close();
    }
  });

  it('rejects an oversized message with MessageTooLargeError before sending anything', async () => {
    const t = await fixture.transport({ maxMessageBytes: 1_000 });
    const topic = unique('size');
    await t.provision(topic, 'g');
    const big = { ...message(1), body: new Uint8Array(1_000) };
    // The declared limit is checked by core, on the bus, before the transport is asked.
    const batch = new Bus(t, { source: 'test' }).publishWire(topic, [message(0), big]);
    await expect(batch).rejects.toBeInstanceOf(MessageTooLargeError);
    await expect(batch).rejects.toMatchObject({ index: 1, limit: 1_000 });
    // Headers travel in one AMQP frame: too many header bytes are refused whatever the limit.
    const roomy = await fixture.transport({ maxMessageBytes: 1_000_000 });
    const fat = { ...message(2), headers: { ...message(2).headers, huge: 'x'.repeat(70_000) } };
    await expect(roomy.publish(topic, [fat])).rejects.toBeInstanceOf(MessageTooLargeError);
    const { deliveries } = fixture.consume(t, topic, 'g');
    await quiet(() => deliveries.length, 500);
    expect(deliveries).toHaveLength(0);
  });

  it('counts header bytes exactly before refusing them: 25 000 ASCII characters fit the one frame', async () => {
    // 3 bytes a character, the bound checked first, would be 75 000: over the frame's 60 000.
    const t = await fixture.transport({ maxMessageBytes: 1_000_000 });
    const topic = unique('size-exact');
    await t.provision(topic, 'g');
    const note = 'x'.repeat(25_000);
    await t.publish(topic, [{ ...message(3), headers: { ...message(3).headers, note } }]);
    const { deliveries } = fixture.consume(t, topic, 'g');
    await until(() => deliveries.length === 1, 10_000, 'delivery');
    expect(deliveries[0]!.message.headers.note).toBe(note);
    await deliveries[0]!.ack();
  });

  it('requireRoute rejects a publish that no group is bound to', async () => {
    const t = await fixture.transport({ requireRoute: true });
    const topic = unique('route');
    await t.provision(topic);
    await expect(t.publish(topic, [message(1)])).rejects.toThrow(/No queue is bound/);
    await t.provision(topic, 'g');
    await expect(t.publish(topic, [message(2)])).resolves.toBeUndefined();
  });

  it('delivers a foreign message without CloudEvents headers as it is', async () => {
    const t = await fixture.transport();
    const topic = unique('foreign');
    await t.provision(topic, 'g');
    const raw = await amqpConnect(AMQP_URL);
    const channel = await raw.createConfirmChannel();
    channel.publish(topic, 'rk', Buffer.from('not an event'), { headers: { other: 1 } });
    await channel.waitForConfirms();
    await raw.close();
    const { deliveries } = fixture.consume(t, topic, 'g');
    await until(() => deliveries.length === 1, 10_000, 'the foreign message');
    expect(deliveries[0]!.message.headers).toEqual({});
    expect(bodyOf(deliveries[0]!.message)).toBe('not an event');
    expect(deliveries[0]!.message.key).toBe('rk');
  });

  it('close() leaves no open handles and later calls reject with ClosedError', async () => {
    const before = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap');
    const t = await fixture.transport();
    const topic = unique('close');
    await t.provision(topic, 'g');
    const { deliveries } = fixture.consume(t, topic, 'g');
    await t.publish(topic, [message(1)]);
    await t.publish(topic, [message(2)]);
    await until(() => deliveries.length === 2, 10_000, 'deliveries');
    await deliveries[0]!.nack({ delayMs: 60_000 });
    await t.close();
    await until(
      () => process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap').length <= before.length,
      5_000,
      `handles left: ${process.getActiveResourcesInfo().join(', ')} (before: ${before.join(', ')})`,
    );
    await expect(t.publish(topic, [message(3)])).rejects.toBeInstanceOf(ClosedError);
  });

  it('consumes on a connection of its own, opened with the first subscription and closed with the transport', async (context) => {
    if (!canCloseFromServer) {
      if (process.env.REQUIRE_BROKERS === '1') throw new Error('rabbitmqctl is not on PATH');
      context.skip('no rabbitmqctl on PATH to list connections');
    }
    const name = unique('conn');
    const t = await fixture.transport({ connectionName: name });
    const topic = unique('own');
    await t.provision(topic, 'g');
    await t.publish(topic, [message(1)]);
    // Publishing alone needs one connection.
    expect(await connectionsNamed(name)).toHaveLength(1);
    const { deliveries } = fixture.consume(t, topic, 'g');
    await until(() => deliveries.length === 1, 10_000, 'the delivery');
    await deliveries[0]!.ack();
    expect(await connectionsNamed(name)).toHaveLength(2);
    await t.close();
    // The broker forgets a closed connection a moment after close-ok.
    let open = await connectionsNamed(name);
    for (let tries = 0; open.length > 0 && tries < 50; tries++) {
      await new Promise((r) => setTimeout(r, 100));
      open = await connectionsNamed(name);
    }
    expect(open).toEqual([]);
  });

  it('reconnects after the broker closes the connection: publishes land, consuming resumes, old deliveries cannot be settled', async (context) => {
    // The server-side close needs the broker's own CLI; CI (REQUIRE_BROKERS=1) must have it.
    if (!canCloseFromServer) {
      if (process.env.REQUIRE_BROKERS === '1') throw new Error('rabbitmqctl is not on PATH');
      context.skip('no rabbitmqctl on PATH to close the connection from the server');
    }
    const name = unique('conn');
    const t = await fixture.transport({
      connectionName: name,
      reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
    });
    const topic = unique('reconnect');
    await t.provision(topic, 'g');
    const { deliveries } = fixture.consume(t, topic, 'g');
    await t.publish(topic, [message(1)]);
    await until(() => deliveries.length === 1, 10_000, 'first delivery');
    const held = deliveries[0]!;
    await closeFromServer(name);
    // Published during the outage: waits for the next connection rather than vanishing.
    await t.publish(topic, [message(2)]);
    await expect(held.ack()).rejects.toBeInstanceOf(TransportError);
    await until(() => deliveries.length >= 3, 15_000, 'the held message again and the new one');
    const again = deliveries.slice(1);
    expect(again.map((d) => bodyOf(d.message)).sort()).toEqual(['1', '2']);
    expect(again.find((d) => bodyOf(d.message) === '1')!.attempt).toBe(2);
    await Promise.all(again.map((d) => d.ack()));
    await quiet(() => deliveries.length, 500);
    expect(deliveries).toHaveLength(3);
  });
});
