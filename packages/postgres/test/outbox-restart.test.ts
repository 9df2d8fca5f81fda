// A PostgreSQL restart mid-run: the relay loses every shard connection, says so, reconnects when
// the server is back and delivers the rest (into memory:// and NATS). A private cluster: the
// shared server is never restarted.
import {
  launchPrivatePostgres,
  type PgTestSchema,
  type PrivatePostgres,
  pgTestSchema,
} from '@switchyard/conformance';
import type { Bus, LogEntry } from '@switchyard/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OutboxRelay, outboxRelay, pgOutbox } from '../src/index.ts';
import { openBus, receive, sweepTopics, TARGETS, topicName, until, writeEvents } from './outbox-helpers.ts';

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

describe.each(TARGETS.filter((t) => t.name === 'memory' || t.name === 'nats'))(
  'outbox relay across a PostgreSQL restart into $name',
  (target) => {
    const topics: string[] = [];
    const buses: Bus[] = [];
    let relay: OutboxRelay | undefined;
    afterAll(async () => {
      await relay?.close({ drainTimeoutMs: 1_000 });
      await Promise.all(buses.map((b) => b.close({ drainTimeoutMs: 1_000 })));
      await sweepTopics(target, topics);
    });

    it('resumes after the restart and delivers every committed event', { timeout: 90_000 }, async () => {
      const topic = topicName('restart');
      topics.push(topic);
      const table = `restart_${target.name}`;
      const outbox = pgOutbox({ pool: schema.pool, table, source: 'outbox-restart-test' });
      await outbox.migrate();
      const bus = await openBus(target, 'outbox-restart-test');
      buses.push(bus);
      const received = await receive(bus, topic);
      const logs: LogEntry[] = [];
      relay = outboxRelay({
        pool: schema.newPool(20),
        bus,
        table,
        pollMs: 100,
        rebalanceMs: 200,
        batchSize: 50,
        logger: (entry) => logs.push(entry),
      });
      const before = await writeEvents(schema.pool, outbox, topic, {
        total: 5_000,
        perTx: 50,
        writers: 4,
        keys: 64,
      });
      await until(() => received.distinct.size >= 500, 30_000, 'the first events');

      await server.restart();
      // Written after the restart, on fresh connections.
      const after = await writeEvents(schema.pool, outbox, topic, {
        total: 2_000,
        perTx: 50,
        writers: 4,
        keys: 64,
      });
      const all = [...before.ids, ...after.ids];
      await until(
        () => all.every((id) => received.distinct.has(id)),
        60_000,
        'every event after the restart',
      );
      expect([...received.distinct].filter((id) => !all.includes(id))).toEqual([]);
      // It noticed the loss (not a silent stall), and owns every shard again.
      expect(logs.some((e) => e.level === 'warn' && /lost its connection|cannot reach/.test(e.message))).toBe(
        true,
      );
      await until(() => relay!.shards.length === 16, 10_000, 'all 16 shards owned again');
      expect((await relay.stats()).backlog).toBe(0);
      received.stop();
    });
  },
);

// The README's relay pool is a plain `new pg.Pool(...)`: no 'error' listener. pg.Pool emits
// 'error' for a connection that dies while idle in it (the restart cuts them all), and with no
// listener that is an uncaught exception: the process the relay is meant to keep alive dies.
describe('outbox relay on a pool without an error listener', () => {
  it('survives a PostgreSQL restart and leaves the pool as it found it', { timeout: 60_000 }, async () => {
    const { default: pg } = await import('pg');
    const table = 'restart_plain_pool';
    const outbox = pgOutbox({ pool: schema.pool, table, source: 'outbox-restart-test' });
    await outbox.migrate();
    const bus = await openBus(TARGETS[0]!, 'outbox-restart-test');
    const topic = topicName('plain-pool');
    const received = await receive(bus, topic);
    const pool = new pg.Pool({
      connectionString: server.url,
      max: 8,
      options: `-c search_path=${schema.schema}`,
    });
    const uncaught: Error[] = [];
    const onUncaught = (error: Error) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    const plain = outboxRelay({
      pool,
      bus,
      table,
      shards: 4,
      pollMs: 100,
      rebalanceMs: 200,
      logger: () => {},
    });
    try {
      const before = await writeEvents(schema.pool, outbox, topic, {
        total: 200,
        perTx: 20,
        writers: 2,
        keys: 8,
      });
      await until(
        () => before.ids.every((id) => received.distinct.has(id)),
        20_000,
        'events before the restart',
      );
      // Idle connections in the relay's pool (given back by the migration and lease hand-offs).
      await Promise.all(Array.from({ length: 3 }, () => pool.query('select 1')));
      await server.restart();
      const after = await writeEvents(schema.pool, outbox, topic, {
        total: 200,
        perTx: 20,
        writers: 2,
        keys: 8,
      });
      await until(
        () => after.ids.every((id) => received.distinct.has(id)),
        30_000,
        'events after the restart',
      );
      expect(uncaught.map((e) => e.message)).toEqual([]);
    } finally {
      await plain.close({ drainTimeoutMs: 1_000 });
      process.off('uncaughtException', onUncaught);
      received.stop();
      await bus.close({ drainTimeoutMs: 1_000 });
      await pool.end().catch(() => {});
    }
    expect(pool.listenerCount('error')).toBe(0);
    expect(pool.listenerCount('connect')).toBe(0);
  });
});
