// The relay and the size of its pool: refused when too small to hold every shard, and close()
// bounded by its deadline while a rebalance waits for a connection.
import { type PgTestSchema, pgTestSchema, storeUrl } from '@switchyard/conformance';
import type { PoolClient } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outboxRelay, pgOutbox } from '../src/index.ts';
import { until } from './outbox-helpers.ts';

let schema: PgTestSchema;
beforeAll(async () => {
  schema = await pgTestSchema(storeUrl('postgres'));
  await pgOutbox({ pool: schema.pool, source: 'relay-pool-test' }).migrate();
});
afterAll(async () => {
  await schema?.drop();
});

const bus = { publishWire: async () => {} };

describe('outbox relay options', () => {
  // Before, each was accepted: batchSize 0 read LIMIT 0 and never sent anything, a negative pollMs
  // spun, and a missing bus failed every publish and retried forever.
  it('refuses a missing bus or pool and counts or durations that are not positive', () => {
    const pool = schema.newPool(20);
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ pool }, /needs `bus`/],
      [{ bus }, /needs `pool`/],
      [{ pool, bus, batchSize: 0 }, /batchSize must be a positive integer, not 0/],
      [{ pool, bus, batchSize: 1.5 }, /batchSize must be a positive integer/],
      [{ pool, bus, pollMs: -1 }, /pollMs must be a positive number, not -1/],
      [{ pool, bus, rebalanceMs: Number.NaN }, /rebalanceMs must be a positive number/],
      [{ pool, bus, retryMs: 0 }, /retryMs must be a positive number/],
    ];
    for (const [options, message] of bad)
      expect(() => outboxRelay(options as unknown as Parameters<typeof outboxRelay>[0])).toThrow(message);
  });
});

describe('outbox relay pool size', () => {
  // pg.Pool's default max is 10 and the relay's default shards 16: before, such a relay owned 9
  // shards and the 7 others' events were never sent, with nothing logged.
  it('refuses a pg.Pool too small for its shards, naming both numbers', () => {
    const pool = schema.newPool(10);
    expect(() => outboxRelay({ pool, bus })).toThrow(RangeError);
    expect(() => outboxRelay({ pool, bus })).toThrow(/allows 10 connections; 16 shards need at least 18/);
    expect(() => outboxRelay({ pool, bus, shards: 9 })).toThrow(/need at least 11/);
  });

  it('close() keeps its deadline while a rebalance waits for a connection, and keeps nothing after', async () => {
    const pool = schema.newPool(4);
    // Every connection taken: the relay's first rebalance waits in pool.connect().
    const taken: PoolClient[] = await Promise.all(Array.from({ length: 4 }, () => pool.connect()));
    const logs: string[] = [];
    const relay = outboxRelay({ pool, bus, shards: 2, logger: (e) => logs.push(`${e.level} ${e.message}`) });
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    const closed = await Promise.race([
      relay.close({ drainTimeoutMs: 500 }).then(() => true),
      new Promise<false>((r) => setTimeout(() => r(false), 5_000)),
    ]);
    expect(closed).toBe(true);
    expect(Date.now() - started).toBeLessThan(5_000);
    // The waiting rebalance now gets its connections: it must hand them back, not hold the
    // control connection (membership, LISTEN) or a shard for a relay that is closed.
    for (const c of taken) c.release();
    await until(
      () => pool.totalCount > 0 && pool.idleCount === pool.totalCount && pool.waitingCount === 0,
      5_000,
      'the pool idle',
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(pool.idleCount).toBe(pool.totalCount);
    expect(relay.shards).toEqual([]);
    // Handing them back is the relay closing, not PostgreSQL being unreachable.
    expect(logs.filter((l) => l.startsWith('warn'))).toEqual([]);
  });
});
