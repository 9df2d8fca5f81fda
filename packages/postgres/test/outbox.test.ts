// The transactional outbox and its relay, into memory:// and each broker: a rolled-back write sends
// nothing; per-key order with 2 relays, 16 shards and 8 writers while one writer's transaction is
// held open 2 s (the gap test: the late commit is never skipped and never overtaken).
import {
  launchPrivatePostgres,
  type PgTestSchema,
  type PrivatePostgres,
  pgTestSchema,
} from '@switchyard/conformance';
import { type Bus, handle, NonRetryableError } from '@switchyard/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OutboxRelay, outboxRelay, pgInbox, pgOutbox } from '../src/index.ts';
import {
  firstArrivals,
  inTx,
  openBus,
  receive,
  sweepTopics,
  TARGETS,
  topicName,
  until,
  writeEvents,
} from './outbox-helpers.ts';

// A cluster of this file's own: the relay waits for every transaction older than a row to end,
// cluster-wide, so another test's long transaction on the shared server would stall it.
let server: PrivatePostgres;
let schema: PgTestSchema;
beforeAll(async () => {
  server = await launchPrivatePostgres();
  schema = await pgTestSchema(server.url);
});
afterAll(async () => {
  await schema?.drop();
  await server?.stop();
});

/** Events for the gap test per target: a few seconds of each broker's publish rate. */
const GAP_EVENTS: Record<string, number> = {
  memory: 20_000,
  kafka: 10_000,
  nats: 10_000,
  rabbitmq: 6_000,
  sqs: 3_000,
};

describe.each(TARGETS)('outbox relay into $name', (target) => {
  const topics: string[] = [];
  const buses: Bus[] = [];
  const relays: OutboxRelay[] = [];
  let tables = 0;
  const table = () => `ob_${target.name}_${++tables}`;
  const bus = async (source: string) => {
    const b = await openBus(target, source);
    buses.push(b);
    return b;
  };
  const pools: { end(): Promise<void> }[] = [];
  /** A relay on a pool of its own (one connection per shard), both closed after this target's cases. */
  const relay = (options: Omit<Parameters<typeof outboxRelay>[0], 'pool'>) => {
    const pool = schema.newPool(20);
    pools.push(pool);
    const r = outboxRelay({ ...options, pool });
    relays.push(r);
    return r;
  };

  afterAll(async () => {
    await Promise.all(relays.map((r) => r.close({ drainTimeoutMs: 2_000 })));
    // The private cluster allows 100 connections: give this target's back before the next one.
    await Promise.all(pools.map((p) => p.end().catch(() => {})));
    await Promise.all(buses.map((b) => b.close({ drainTimeoutMs: 1_000 })));
    await sweepTopics(target, topics);
  });

  it('a rolled-back transaction publishes nothing; a committed one goes out with its id and attributes', async () => {
    const topic = topicName('rb');
    topics.push(topic);
    const t = table();
    const outbox = pgOutbox({ pool: schema.pool, table: t, source: 'outbox-test' });
    const consumer = await bus('outbox-test-consumer');
    const received = await receive(consumer, topic);
    // No polling to speak of: the committed event can only be found through the NOTIFY of its slot.
    const r = relay({ bus: await bus('outbox-relay'), table: t, pollMs: 600_000 });
    await until(() => r.shards.length === 16, 10_000, 'the relay to own its shards');

    await expect(
      inTx(schema.pool, async (tx) => {
        await outbox.publish(tx, topic, { type: 'outbox.test', key: 'a', data: { n: 0 } });
        throw new Error('the business write failed');
      }),
    ).rejects.toThrow('the business write failed');
    const kept = await inTx(schema.pool, (tx) =>
      outbox.publish(tx, topic, {
        type: 'outbox.test',
        key: 'a',
        data: { n: 1 },
        correlationid: 'corr-1',
        causationid: 'cause-1',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      }),
    );
    await until(() => received.ids.length >= 1, 20_000, 'the committed event');
    // Give a wrongly relayed rolled-back row time to show up.
    await new Promise((r) => setTimeout(r, 500));
    expect(received.ids).toEqual([kept.id]);
    const left = await schema.pool.query(`select count(*)::int as n from ${t}`);
    expect(left.rows[0].n).toBe(0);
    received.stop();
  });

  it('moves an event the broker refuses for good (too large) aside with its reason; the key goes on', async () => {
    const topic = topicName('big');
    topics.push(topic);
    const t = table();
    const outbox = pgOutbox({ pool: schema.pool, table: t, source: 'outbox-test' });
    const consumer = await bus('outbox-test-consumer');
    const received = await receive(consumer, topic);
    const relayBus = await bus('outbox-relay');
    const limit = relayBus.transport.capabilities.maxMessageBytes;
    const r = relay({ bus: relayBus, table: t, pollMs: 200 });
    await until(() => r.shards.length === 16, 10_000, 'the relay to own its shards');

    const [before, big, after] = await inTx(schema.pool, async (tx) => [
      await outbox.publish(tx, topic, { type: 'outbox.test', key: 'k', data: { n: 1 } }),
      await outbox.publish(tx, topic, { type: 'outbox.test', key: 'k', data: 'x'.repeat(limit + 1) }),
      await outbox.publish(tx, topic, { type: 'outbox.test', key: 'k', data: { n: 3 } }),
    ]);
    await until(() => received.ids.length >= 2, 20_000, 'the events around the refused one');
    expect(received.ids).toEqual([before.id, after.id]);
    const dead = await schema.pool.query(`select event_id, reason from ${t}_dead`);
    expect(dead.rows).toEqual([{ event_id: big.id, reason: expect.stringMatching(/accepts at most/) }]);
    const left = await schema.pool.query(`select count(*)::int as n from ${t}`);
    expect(left.rows[0].n).toBe(0);
    received.stop();
  });

  it('keeps per-key order with 2 relays, 16 shards, 8 writers and one transaction held open 2 s', {
    timeout: 120_000,
  }, async () => {
    const topic = topicName('gap');
    topics.push(topic);
    const t = table();
    const outbox = pgOutbox({ pool: schema.pool, table: t, source: 'outbox-test' });
    await outbox.migrate();
    const consumer = await bus('outbox-test-consumer');
    const received = await receive(consumer, topic);
    const a = relay({
      bus: await bus('relay-a'),
      table: t,
      shards: 16,
      pollMs: 200,
    });
    const b = relay({
      bus: await bus('relay-b'),
      table: t,
      shards: 16,
      pollMs: 200,
    });

    // The held transaction takes its positions first and commits last.
    const held = await schema.pool.connect();
    await held.query('begin');
    const heldEvents = await outbox.publishBatch(
      held,
      topic,
      Array.from({ length: 10 }, (_, i) => ({ type: 'outbox.test', key: 'held', data: { i } })),
    );
    const writing = writeEvents(schema.pool, outbox, topic, {
      total: GAP_EVENTS[target.name]!,
      perTx: 50,
      writers: 8,
      keys: 256,
    });
    await new Promise((r) => setTimeout(r, 2_000));
    // While it is open nothing it wrote can have gone out.
    expect(received.ids.filter((id) => heldEvents.some((e) => e.id === id))).toEqual([]);
    await held.query('commit');
    held.release();
    // Later events of the same key, committed after it: they must arrive after it.
    const after = await inTx(schema.pool, (tx) =>
      outbox.publishBatch(
        tx,
        topic,
        Array.from({ length: 10 }, (_, i) => ({ type: 'outbox.test', key: 'held', data: { i: 10 + i } })),
      ),
    );
    const written = await writing;
    const expected = new Set([...written.ids, ...heldEvents.map((e) => e.id), ...after.map((e) => e.id)]);
    await until(
      () => received.distinct.size >= expected.size,
      90_000,
      `${expected.size} events on ${target.name}`,
    );

    // Exactly the committed ids: duplicates only by id.
    expect([...received.distinct].filter((id) => !expected.has(id))).toEqual([]);
    // The two relays split the 16 shards (each relay takes its share of the live relays).
    await until(() => a.shards.length === 8 && b.shards.length === 8, 10_000, 'an even split of the shards');
    expect(new Set([...a.shards, ...b.shards]).size).toBe(16);
    if (consumer.transport.capabilities.keyOrderWithinMember) {
      for (const [key, ids] of written.byKey)
        expect(firstArrivals(received.byKey.get(key) ?? [])).toEqual(ids);
      expect(firstArrivals(received.byKey.get('held') ?? [])).toEqual(
        [...heldEvents, ...after].map((e) => e.id),
      );
    }
    // `relays` is what a counted at its last rebalance: one that ran just before b joined counted 1,
    // and a still ended with 8 shards (b held the rest). The next rebalance (1 s) counts 2.
    await until(async () => (await a.stats()).relays === 2, 5_000, 'a counting both relays');
    const stats = await a.stats();
    expect(stats).toMatchObject({ backlog: 0, oldestAgeMs: 0, relays: 2 });

    // One relay leaves: the other takes its shards and what is written next still goes out.
    await a.close();
    await until(() => b.shards.length === 16, 10_000, 'the remaining relay to own all 16 shards');
    const later = await inTx(schema.pool, (tx) =>
      outbox.publishBatch(
        tx,
        topic,
        Array.from({ length: 64 }, (_, i) => ({ type: 'outbox.test', key: `late-${i}`, data: { i } })),
      ),
    );
    await until(
      () => later.every((e) => received.distinct.has(e.id)),
      30_000,
      'the events after the handover',
    );
    received.stop();
  });
});

describe('ctx.publish in a transactional handler', () => {
  it('goes through the same outbox: sent by the relay only when the handler commits', async () => {
    const target = TARGETS[0]!;
    const bus = await openBus(target, 'outbox-inbox-test');
    const outbox = pgOutbox({ pool: schema.pool, table: 'ob_inbox', source: 'outbox-inbox-test' });
    const inbox = pgInbox(schema.pool, { cleanupIntervalMs: 0, outbox });
    const [input, output] = [topicName('in'), topicName('out')];
    await bus.provision(input, { groups: ['h'] });
    const received = await receive(bus, output);
    const relayPool = schema.newPool(20);
    const relay = outboxRelay({ pool: relayPool, bus, table: 'ob_inbox', pollMs: 100 });
    const subscription = bus
      .consume<{ fail: boolean }>(input, { group: 'h' })
      .pipe(
        handle(
          async (event, ctx) => {
            await ctx.publish(output, { type: 'outbox.follow-up', data: { of: event.id } });
            if (event.data.fail) throw new NonRetryableError('rolled back after ctx.publish');
          },
          { idempotency: { store: inbox, transactional: true }, retry: { maxAttempts: 1 } },
        ),
      )
      .subscribe();
    try {
      const failed = await bus.publish(input, { type: 'outbox.cmd', data: { fail: true } });
      const ok = await bus.publish(input, { type: 'outbox.cmd', data: { fail: false } });
      await until(() => received.ids.length >= 1, 10_000, 'the follow-up');
      await new Promise((r) => setTimeout(r, 500));
      const follow = await schema.pool.query('select count(*)::int as n from ob_inbox');
      expect(follow.rows[0].n).toBe(0);
      expect(received.ids).toHaveLength(1);
      // It is the follow-up of the event whose handler committed, with the causation carried.
      expect(received.events[0]).toMatchObject({ causationid: ok.id, data: { of: ok.id } });
      expect(failed.id).not.toBe(ok.id);
    } finally {
      subscription.unsubscribe();
      received.stop();
      await relay.close();
      await relayPool.end();
      await bus.close({ drainTimeoutMs: 1_000 });
    }
  });
});

describe('pgOutbox traceContext', () => {
  it("stamps the caller's active trace context on an event given without one, and keeps a given one", async () => {
    const active = {
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      tracestate: 'acme=1',
    };
    let calls = 0;
    const outbox = pgOutbox({
      pool: schema.pool,
      table: 'ob_trace',
      source: 'outbox-test',
      traceContext: () => {
        calls += 1;
        return active;
      },
    });
    const given = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const [stamped, kept] = await inTx(schema.pool, async (tx) => [
      await outbox.publish(tx, 'orders', { type: 'outbox.test', data: {} }),
      await outbox.publish(tx, 'orders', { type: 'outbox.test', data: {}, traceparent: given }),
    ]);
    expect(stamped).toMatchObject(active);
    expect(kept!.traceparent).toBe(given);
    expect(kept!.tracestate).toBeUndefined();
    // Asked only for the event that had none.
    expect(calls).toBe(1);
    const rows = await schema.pool.query('select count(*)::int as n from ob_trace');
    expect(rows.rows[0].n).toBe(2);
  });
});
