import { type PgTestSchema, pgTestSchema, storeUrl } from '@switchyard/conformance';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LOG_START, type LogCheckpoint, LogReader } from '../src/log-reader.ts';

let schema: PgTestSchema;
let pool: pg.Pool;
const reader = new LogReader<{ n: number }>({ table: 'log', columns: 'n' });

beforeAll(async () => {
  schema = await pgTestSchema(storeUrl('postgres'), { max: 4 });
  pool = schema.pool;
  await pool.query(
    'create table log (global_position bigint generated always as identity primary key, n int not null, tx_id xid8 not null default pg_current_xact_id())',
  );
  await pool.query('create index on log (tx_id, global_position)');
});

afterAll(async () => {
  await schema?.drop();
});

async function drain(from: LogCheckpoint, seen: number[]): Promise<LogCheckpoint> {
  let at = from;
  for (;;) {
    const rows = await reader.read(pool, at, 100);
    if (rows.length === 0) return at;
    for (const r of rows) seen.push(r.row.n);
    at = rows[rows.length - 1]!.checkpoint;
  }
}

describe('LogReader (gap-safe)', () => {
  it('delivers an append held open 2 s after later commits, never skips it; a rolled-back hole does not stall', async () => {
    const slow = await pool.connect();
    await slow.query('begin');
    await slow.query('insert into log (n) values (0)'); // takes the lowest position, commits last
    const rolled = await pool.connect();
    await rolled.query('begin');
    await rolled.query('insert into log (n) values (-1)');
    await rolled.query('rollback');
    rolled.release();
    for (let i = 1; i <= 10; i++) await pool.query('insert into log (n) values ($1)', [i]);
    const seen: number[] = [];
    // While the slow transaction is open, nothing after it is final: no checkpoint can pass it.
    let at = await drain(LOG_START, seen);
    expect(seen).toEqual([]);
    await new Promise((r) => setTimeout(r, 2_000));
    await slow.query('commit');
    slow.release();
    at = await drain(at, seen);
    expect(seen.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(await reader.head(pool)).toEqual(at);
    await pool.query('insert into log (n) values (11)');
    // Any open transaction in the cluster that started earlier holds the row back: poll, not assert once.
    await vi.waitFor(
      async () => {
        at = await drain(at, seen);
        expect(seen).toContain(11);
      },
      { timeout: 15_000, interval: 200 },
    );
  });
});

describe("LogReader over partitions (the outbox relay's per-shard read)", () => {
  it('reads the same order as one sorted scan, however skewed the partitions', async () => {
    await pool.query(
      'create table plog (global_position bigint generated always as identity primary key, n int not null, part int not null, tx_id xid8 not null default pg_current_xact_id())',
    );
    await pool.query('create index on plog (part, tx_id, global_position)');
    // Partition 0 gets most rows (a hot key), 1..7 a few each, 8..11 none; several rows per transaction.
    for (let t = 0; t < 40; t++) {
      const parts = Array.from({ length: 25 }, (_, i) => (i % 3 === 0 ? 1 + ((t + i) % 7) : 0));
      await pool.query(
        'insert into plog (n, part) select 25 * $1 + i, p from unnest($2::int[]) with ordinality as u(p, i)',
        [t, parts],
      );
    }
    const values = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
    const merged = new LogReader<{ n: number }>({
      table: 'plog',
      columns: 'n',
      partitions: { column: 'part', values },
    });
    const sorted = new LogReader<{ n: number }>({
      table: 'plog',
      columns: 'n',
      where: 'part between 0 and 11',
    });
    // Another test's open transaction on the shared server holds rows back for a while; once final, they stay so.
    await vi.waitFor(async () => expect(await sorted.read(pool, LOG_START, 2_000)).toHaveLength(1_000), {
      timeout: 15_000,
      interval: 200,
    });
    for (const limit of [1, 7, 50, 500]) {
      const a: number[] = [];
      const b: number[] = [];
      for (const [reader, out] of [
        [merged, a],
        [sorted, b],
      ] as const) {
        let at = LOG_START;
        for (;;) {
          const rows = await reader.read(pool, at, limit);
          if (rows.length === 0) break;
          expect(rows.length).toBeLessThanOrEqual(limit);
          for (const r of rows) out.push(r.row.n);
          at = rows[rows.length - 1]!.checkpoint;
        }
      }
      expect(a).toHaveLength(1_000);
      expect(a).toEqual(b);
    }
  });
});
