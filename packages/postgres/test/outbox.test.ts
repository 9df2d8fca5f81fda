// The transactional outbox and its relay, into memory:// and each broker: a rolled-back write sends
// nothing; per-key order with 2 relays, 16 shards and 8 writers while one writer's transaction is
// held open 2 s (the gap test: the late commit is never skipped and never overtaken).
import {
  launchPrivatePostgres,
  type PgTestSchema,
  type PrivatePostgres,
  pgTestSchema,
} from '@switchyard/conformance';
import type { Bus } from '@switchyard/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OutboxRelay, outboxRelay, pgOutbox } from '../src/index.ts';
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
  const relay = (options: Parameters<typeof outboxRelay>[0]) => {
    const r = outboxRelay(options);
    relays.push(r);
    return r;
  };

  afterAll(async () => {
    await Promise.all(relays.map((r) => r.close({ drainTimeoutMs: 2_000 })));
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
    relay({ pool: schema.newPool(20), bus: await bus('outbox-relay'), table: t, pollMs: 100 });

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
      pool: schema.newPool(20),
      bus: await bus('relay-a'),
      table: t,
      shards: 16,
      pollMs: 200,
    });
    const b = relay({
      pool: schema.newPool(20),
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
    const stats = await a.stats();
    expect(stats).toMatchObject({ backlog: 0, oldestAgeMs: 0, relays: 2 });
    received.stop();
  });
});
