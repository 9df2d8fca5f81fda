// The relay and the size of its pool: refused when too small to hold every shard, and close()
// bounded by its deadline while a rebalance waits for a connection.
import { type PgTestSchema, pgTestSchema, storeUrl } from '@switchyard/conformance';
import type { PoolClient } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outboxRelay, pgOutbox } from '../src/index.ts';
import { inTx, until } from './outbox-helpers.ts';

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
      [{ pool, bus, batchSize: 0 }, /batchSize must be a positive integer up to 2147483647, not 0/],
      [{ pool, bus, batchSize: 1.5 }, /batchSize must be a positive integer/],
      [{ pool, bus, pollMs: -1 }, /pollMs must be a positive number up to 2147483647, not -1/],
      [{ pool, bus, rebalanceMs: Number.NaN }, /rebalanceMs must be a positive number/],
      [{ pool, bus, retryMs: 0 }, /retryMs must be a positive number/],
      // A timer runs anything longer (or Infinity) after 1 ms: the poll would spin.
      [{ pool, bus, pollMs: Number.POSITIVE_INFINITY }, /pollMs must be a positive number up to 2147483647/],
      [{ pool, bus, rebalanceMs: 2 ** 31 }, /rebalanceMs must be a positive number up to 2147483647/],
    ];
    for (const [options, message] of bad)
      expect(() => outboxRelay(options as unknown as Parameters<typeof outboxRelay>[0])).toThrow(message);
  });
});

describe('outbox relay close() deadline', () => {
  // Node runs setTimeout(fn, Infinity) after 1 ms: close({ drainTimeoutMs: Infinity }), meant as
  // 'let every batch finish', cut each shard's connection mid-publish instead, and NaN did the same.
  it('waits for a batch being published when drainTimeoutMs is Infinity, and refuses NaN or a negative', async () => {
    const pool = schema.newPool(8);
    let release: () => void = () => {};
    const publishing = new Promise<void>((resolve) => {
      release = resolve;
    });
    let started = false;
    const published: string[] = [];
    const bus = {
      publishWire: async (_topic: string, messages: readonly { headers: Record<string, string> }[]) => {
        started = true;
        await publishing;
        for (const m of messages) published.push(m.headers.id!);
      },
    };
    const outbox = pgOutbox({ pool: schema.pool, source: 'relay-pool-test' });
    const logs: string[] = [];
    const relay = outboxRelay({
      pool,
      bus,
      shards: 2,
      pollMs: 50,
      logger: (e) => logs.push(`${e.level} ${e.message}`),
    });
    try {
      const [event] = await inTx(schema.pool, (tx) =>
        outbox.publishBatch(tx, 'close-deadline', [{ type: 'test', key: 'k', data: {} }]),
      );
      await until(() => started, 10_000, 'the batch publishing');
      for (const drainTimeoutMs of [Number.NaN, -1])
        await expect(relay.close({ drainTimeoutMs })).rejects.toThrow(/drainTimeoutMs must be a number ≥ 0/);
      // Refused: the relay still runs.
      expect(relay.shards).toEqual([0, 1]);
      let closed = false;
      const closing = relay.close({ drainTimeoutMs: Number.POSITIVE_INFINITY }).then(() => {
        closed = true;
      });
      await new Promise((r) => setTimeout(r, 300));
      expect(closed).toBe(false);
      release();
      await closing;
      expect(published).toEqual([event!.id]);
      expect(logs.filter((l) => /still publishing at the deadline/.test(l))).toEqual([]);
      // Its batch finished before its locks were let go: the sent event is deleted, not left to resend.
      expect((await relay.stats()).backlog).toBe(0);
    } finally {
      release();
      await relay.close();
    }
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

describe('a shard lease lost as it is won', () => {
  // PostgreSQL shutting down can answer the lock query and send its FATAL in the same read: the
  // connection's 'error' (the lease lost) comes before the relay's code sees the lock won. Before,
  // the shard's worker ended at once but stayed registered, so the shard counted as owned and its
  // events were never sent (the outbox restart test's stall, about 1 run in 6).
  it('is taken again on a fresh connection and its events are sent', async () => {
    const inner = schema.newPool(8);
    let cut = 0;
    const pool = {
      options: inner.options,
      on: inner.on.bind(inner),
      removeListener: inner.removeListener.bind(inner),
      query: inner.query.bind(inner),
      async connect() {
        const client = await inner.connect();
        const query = client.query.bind(client) as (text: string, values?: unknown[]) => Promise<unknown>;
        (client as { query: unknown }).query = (text: string, values?: unknown[]) => {
          const answer = query(text, values);
          if (cut > 0 || !text.includes('pg_try_advisory_lock(')) return answer;
          cut++;
          // The loss reported before the caller resumes, as a FATAL parsed in the answer's chunk is.
          return answer.then((result) => {
            client.emit('error', new Error('terminating connection due to administrator command'));
            return result;
          });
        };
        return client;
      },
    };
    const published: string[] = [];
    const bus = {
      publishWire: async (_topic: string, messages: readonly { headers: Record<string, string> }[]) => {
        for (const m of messages) published.push(m.headers.id!);
      },
    };
    const outbox = pgOutbox({ pool: schema.pool, source: 'relay-pool-test' });
    const logs: string[] = [];
    const relay = outboxRelay({
      pool: pool as never,
      bus,
      shards: 2,
      pollMs: 50,
      rebalanceMs: 100,
      logger: (e) => logs.push(`${e.level} ${e.message}`),
    });
    try {
      // Keys on both shards.
      const events = await inTx(schema.pool, (tx) =>
        outbox.publishBatch(
          tx,
          'lost-lease',
          Array.from({ length: 20 }, (_, i) => ({ type: 'test', key: `k${i}`, data: { i } })),
        ),
      );
      await until(() => events.every((e) => published.includes(e.id)), 10_000, 'every event sent');
      expect(cut).toBe(1);
      expect(logs.some((l) => /lost its connection/.test(l))).toBe(true);
      await until(() => relay.shards.length === 2, 5_000, 'both shards owned');
    } finally {
      await relay.close({ drainTimeoutMs: 1_000 });
      await inner.end();
    }
  });
});
