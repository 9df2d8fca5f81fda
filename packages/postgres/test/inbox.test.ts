import { type PgTestSchema, pgTestSchema, storeUrl } from '@switchyard/conformance';
import { connect, createEvent, HandlerTimeoutError, handle, type Outcome } from '@switchyard/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  InvalidTableNameError,
  NoTransactionError,
  pgIdempotencyStore,
  pgInbox,
  pgTx,
} from '../src/index.ts';

const url = storeUrl('postgres');
let schema: PgTestSchema;
beforeAll(async () => {
  schema = await pgTestSchema(url);
  await schema.pool.query('create table effects (id text primary key, n int not null)');
});
afterAll(async () => {
  await schema?.drop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const count = async (id: string) =>
  (await schema.pool.query<{ n: number }>('select n from effects where id = $1', [id])).rows[0]?.n ?? 0;

describe('pgInbox (transactional)', () => {
  it('commits the handler writes with the mark; a second attempt is a duplicate and writes nothing', async () => {
    const inbox = pgInbox(schema.pool, { cleanupIntervalMs: 0 });
    const work = async (tx: { query: (s: string, v?: unknown[]) => Promise<unknown> }) => {
      await tx.query('insert into effects values ($1, 1) on conflict (id) do update set n = effects.n + 1', [
        'a',
      ]);
      return 'ok';
    };
    expect(await inbox.transaction('g:a', 60_000, work)).toEqual({ status: 'done', value: 'ok' });
    expect(await inbox.transaction('g:a', 60_000, work)).toEqual({ status: 'duplicate' });
    expect(await count('a')).toBe(1);
    // The mark is a done mark for the plain store calls too.
    expect(await inbox.claim('g:a', 't', 1_000)).toBe('done');
  });

  it('a throw rolls back the writes and the mark: the redelivery runs', async () => {
    const inbox = pgInbox(schema.pool, { cleanupIntervalMs: 0 });
    await expect(
      inbox.transaction('g:b', 60_000, async (tx) => {
        await tx.query('insert into effects values ($1, 1)', ['b']);
        throw new Error('handler failed');
      }),
    ).rejects.toThrow('handler failed');
    expect(await count('b')).toBe(0);
    const again = await inbox.transaction('g:b', 60_000, async (tx) => {
      await tx.query('insert into effects values ($1, 1)', ['b']);
    });
    expect(again.status).toBe('done');
    expect(await count('b')).toBe(1);
  });

  it('a concurrent attempt on the same id blocks on the uncommitted mark, then is a duplicate', async () => {
    const inbox = pgInbox(schema.pool, { cleanupIntervalMs: 0 });
    const other = pgInbox(schema.newPool(2), { cleanupIntervalMs: 0 });
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const first = inbox.transaction('g:c', 60_000, async (tx) => {
      await tx.query('insert into effects values ($1, 1)', ['c']);
      await held;
    });
    await sleep(200);
    let secondSettled = false;
    const second = other
      .transaction('g:c', 60_000, async (tx) => {
        await tx.query('insert into effects values ($1, 1)', ['c']);
      })
      .finally(() => {
        secondSettled = true;
      });
    await sleep(500);
    expect(secondSettled).toBe(false);
    release();
    expect((await first).status).toBe('done');
    expect(await second).toEqual({ status: 'duplicate' });
    expect(await count('c')).toBe(1);
  });

  it('an abort while the handler runs rolls back and frees the id', async () => {
    const inbox = pgInbox(schema.pool, { cleanupIntervalMs: 0 });
    const controller = new AbortController();
    const attempt = inbox.transaction(
      'g:d',
      60_000,
      async (tx) => {
        await tx.query('insert into effects values ($1, 1)', ['d']);
        controller.abort(new Error('timed out'));
        await tx.query('select pg_sleep(0.2)');
      },
      { signal: controller.signal },
    );
    await expect(attempt).rejects.toThrow();
    expect(await count('d')).toBe(0);
    expect((await inbox.transaction('g:d', 60_000, () => 1)).status).toBe('done');
  });

  // Ending the socket alone leaves a running query running: the server notices a gone client only
  // when it next writes to it. Meanwhile the transaction holds its locks, the inbox mark's among
  // them, so the redelivery of the event waited for the whole query (here 30 s) before it ran.
  it('an abort during a running query ends it on the server: the redelivery does not wait for it', async () => {
    const inbox = pgInbox(schema.pool, { cleanupIntervalMs: 0 });
    const controller = new AbortController();
    const marker = 'inbox-abort-running-test';
    try {
      const attempt = inbox.transaction(
        'g:running',
        60_000,
        async (tx) => {
          await tx.query('insert into effects values ($1, 1)', ['running']);
          setTimeout(() => controller.abort(new Error('timed out')), 200);
          await tx.query(`select pg_sleep(30) /* ${marker} */`);
        },
        { signal: controller.signal },
      );
      await expect(attempt).rejects.toThrow();
      const redelivery = inbox.transaction('g:running', 60_000, () => 1);
      const within = await Promise.race([redelivery, sleep(5_000).then(() => 'still waiting' as const)]);
      expect(within).toEqual({ status: 'done', value: 1 });
      expect(await count('running')).toBe(0);
    } finally {
      await schema.pool.query(
        `select pg_terminate_backend(pid) from pg_stat_activity where query like '%${marker}%' and pid <> pg_backend_pid()`,
      );
    }
  }, 20_000);

  it("a handler past handle()'s timeoutMs fails with HandlerTimeoutError, as without transactional; nothing commits", async () => {
    const inbox = pgInbox(schema.pool, { cleanupIntervalMs: 0 });
    const bus = await connect({ url: 'memory://inbox-timeout-test', source: 'test' });
    try {
      await bus.provision('slow', { groups: ['g'] });
      const outcomes: Outcome[] = [];
      const subscription = bus
        .consume('slow', { group: 'g' })
        .pipe(
          handle(
            async (_event, ctx) => {
              const tx = pgTx(ctx);
              await tx.query('insert into effects values ($1, 1)', ['timeout']);
              await tx.query('select pg_sleep(5)');
            },
            { timeoutMs: 200, idempotency: { store: inbox, transactional: true }, retry: { maxAttempts: 1 } },
          ),
        )
        .subscribe((outcome) => outcomes.push(outcome));
      await bus.publish('slow', { type: 'test.slow', data: {} });
      for (let waited = 0; outcomes.length === 0 && waited < 10_000; waited += 50) await sleep(50);
      subscription.unsubscribe();
      expect(outcomes).toHaveLength(1);
      expect(outcomes[0]!.kind).not.toBe('acked');
      expect((outcomes[0] as { error?: unknown }).error).toBeInstanceOf(HandlerTimeoutError);
      expect(await count('timeout')).toBe(0);
    } finally {
      await bus.close({ drainTimeoutMs: 1_000 });
    }
  }, 20_000);

  it('the connection killed while the handler awaits something else: the attempt fails, the process lives', async () => {
    // pg emits a checked-out client's connection loss as an 'error' event when no query is
    // running on it; with no listener that is an uncaught exception, ending a consumer's process
    // over a PostgreSQL restart or failover. Own pool: nothing from earlier cases is in it.
    const pool = schema.newPool(2);
    const inbox = pgInbox(pool, { cleanupIntervalMs: 0 });
    await inbox.migrate();
    const uncaught: Error[] = [];
    const onUncaught = (error: Error) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      const attempt = inbox.transaction('g:killed', 60_000, async (tx) => {
        const { rows } = await tx.query<{ pid: number }>('select pg_backend_pid() as pid');
        await schema.pool.query('select pg_terminate_backend($1)', [rows[0]!.pid]);
        // The handler's own await (an HTTP call, say): no query runs when the FATAL arrives.
        await sleep(300);
        await tx.query('insert into effects values ($1, 1)', ['killed']);
      });
      await expect(attempt).rejects.toThrow();
      expect(uncaught.map((e) => e.message)).toEqual([]);
      expect(await count('killed')).toBe(0);
      // The id is free: the redelivery runs on a fresh connection.
      const again = await inbox.transaction('g:killed', 60_000, async (tx) => {
        await tx.query('insert into effects values ($1, 1)', ['killed']);
      });
      expect(again.status).toBe('done');
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });

  it('publishInTransaction writes the built event to the outbox only if the transaction commits', async () => {
    const inbox = pgInbox(schema.pool, { cleanupIntervalMs: 0, outboxTable: 'inbox_outbox' });
    const kept = createEvent({ type: 'kept', data: { n: 1 }, key: 'k1' }, 'test');
    const lost = createEvent({ type: 'lost', data: { n: 2 } }, 'test');
    await inbox.transaction('g:e', 60_000, (tx) => inbox.publishInTransaction(tx, 'orders', kept));
    await expect(
      inbox.transaction('g:f', 60_000, async (tx) => {
        await inbox.publishInTransaction(tx, 'orders', lost);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    const { rows } = await schema.pool.query<{ event_id: string; topic: string; key: string }>(
      'select event_id, topic, key from inbox_outbox',
    );
    expect(rows).toEqual([{ event_id: kept.id, topic: 'orders', key: 'k1' }]);
  });

  it('pgTx names the missing option; table names are checked', () => {
    expect(() => pgTx({})).toThrow(NoTransactionError);
    expect(() => pgIdempotencyStore(schema.pool, { table: 'x; drop table y' })).toThrow(
      InvalidTableNameError,
    );
  });

  it('the periodic cleanup deletes expired rows only', async () => {
    const store = pgIdempotencyStore(schema.pool, { table: 'cleanup_test', cleanupIntervalMs: 0 });
    await store.claim('old', 't1', 50);
    await store.claim('live', 't2', 60_000);
    await sleep(200);
    expect(await store.cleanup()).toBe(1);
    const { rows } = await schema.pool.query<{ key: string }>('select key from cleanup_test');
    expect(rows.map((r) => r.key)).toEqual(['live']);
  });
});
