import { randomBytes } from 'node:crypto';
import {
  type EventStore,
  ProjectionBusyError,
  projection,
  rebuildProjection,
  runProjection,
} from '@switchyard/eventsourcing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { eventStore, PgProjectionStore, type SqlConnection } from '../src/index.ts';

const url = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test';
const schema = `sy_test_${randomBytes(6).toString('hex')}`;
let pool: pg.Pool;
let store: EventStore;

beforeAll(async () => {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  pool = new pg.Pool({ connectionString: url, max: 10, options: `-c search_path=${schema}` });
  pool.on('error', () => {});
  store = await eventStore({ pool, source: 'test' });
  for (const v of [1, 2])
    await pool.query(
      `create table totals_v${v} (stream text primary key, total bigint not null, applied int not null)`,
    );
});

afterAll(async () => {
  await pool.end();
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`drop schema if exists ${schema} cascade`);
  await admin.end();
});

const def = (version: number) =>
  projection<SqlConnection>({
    name: 'totals',
    version,
    handlers: {
      t: (e, { tx, stored }) =>
        tx.query(
          `insert into totals_v${version} values ($1, $2, 1) on conflict (stream) do update set total = totals_v${version}.total + excluded.total, applied = totals_v${version}.applied + 1`,
          [stored.streamId, (e.data as { n: number }).n],
        ),
    },
    truncate: (tx) => tx.query(`truncate totals_v${version}`),
  });

const hash = async (v: number) =>
  (
    await pool.query(
      `select md5(string_agg(stream || ':' || total, ',' order by stream)) as h from totals_v${v}`,
    )
  ).rows[0].h;

describe('PostgreSQL projections', () => {
  it('one active runner; rebuild equals live; rebuild of a held version refused; failover without double apply', async () => {
    for (let i = 0; i < 200; i++) await store.append(`s${i % 7}`, [{ type: 't', data: { n: i } }]);
    const projections = new PgProjectionStore({ pool, lockPollMs: 200 });
    const a = runProjection(def(1), { store, projections, pollIntervalMs: 20 });
    await vi.waitFor(() => expect(a.status).toBe('active'), { timeout: 10_000 });
    const b = runProjection(def(1), { store, projections, pollIntervalMs: 20 });
    await a.caughtUp();
    expect(b.status).toBe('waiting');
    await expect(rebuildProjection(def(1), { store, projections })).rejects.toBeInstanceOf(
      ProjectionBusyError,
    );
    await rebuildProjection(def(2), { store, projections });
    expect(await hash(2)).toBe(await hash(1));
    expect(await projections.active('totals')).toBe(2);
    // The holder's connection dies: the other runner takes over from the last commit.
    const holders = await pool.query<{ pid: number }>(
      "select pid from pg_locks where locktype = 'advisory' and classid = hashtext('sy_projection')::oid and granted",
    );
    for (const h of holders.rows) await pool.query('select pg_terminate_backend($1)', [h.pid]);
    const started = Date.now();
    for (let i = 200; i < 260; i++) await store.append(`s${i % 7}`, [{ type: 't', data: { n: i } }]);
    await vi.waitFor(
      async () =>
        expect(Number((await pool.query('select sum(applied) as n from totals_v1')).rows[0].n)).toBe(260),
      { timeout: 15_000, interval: 100 },
    );
    expect(Date.now() - started).toBeLessThan(5_000 + 2_000);
    expect(Number((await pool.query('select sum(total) as s from totals_v1')).rows[0].s)).toBe(
      (259 * 260) / 2,
    );
    await Promise.all([a.stop(), b.stop()]);
  });
});
