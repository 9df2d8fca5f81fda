import { randomBytes } from 'node:crypto';
import { handle } from '@switchyard/core';
import { ConcurrencyError, type EventStore } from '@switchyard/eventsourcing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { eventStore } from '../src/index.ts';

const url = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test';
const schema = `sy_test_${randomBytes(6).toString('hex')}`;
let pool: pg.Pool;
let store: EventStore;
type Counter = { total: number; count: number };
const evolve = (s: Counter, e: { data: unknown }) => ({
  total: s.total + (e.data as { n: number }).n,
  count: s.count + 1,
});

beforeAll(async () => {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  pool = new pg.Pool({ connectionString: url, max: 10, options: `-c search_path=${schema}` });
  pool.on('error', () => {});
  store = await eventStore({ pool, source: 'test' });
});

afterAll(async () => {
  await pool.end();
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`drop schema if exists ${schema} cascade`);
  await admin.end();
});

describe('PostgreSQL event store', () => {
  it('8 connections with the same expected version: exactly 1 wins, versions without holes', async () => {
    await store.append('c', [{ type: 't', data: { n: 1 } }], { expectedVersion: 'no_stream' });
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) =>
        store.append('c', [{ type: 't', data: { n: i } }], { expectedVersion: 1 }),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(ConcurrencyError);
    expect((await store.readStream('c')).map((s) => s.version)).toEqual([1, 2]);
  });

  it('the same event id is stored once; CloudEvent attributes round-trip', async () => {
    const input = {
      type: 't',
      id: 'fixed-id',
      data: { n: 3 },
      correlationid: 'corr',
      causationid: 'cause',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    };
    await store.append('i', [input], { expectedVersion: 'no_stream' });
    await store.append('i', [input], { expectedVersion: 'no_stream' }); // a retry: no conflict, no second row
    const events = await store.readStream('i');
    expect(events).toHaveLength(1);
    expect(events[0]!.event).toMatchObject({
      id: 'fixed-id',
      source: 'test',
      correlationid: 'corr',
      causationid: 'cause',
      partitionkey: 'i',
    });
    expect(events[0]!.event.traceparent).toBe(input.traceparent);
  });

  it('atomic 100-event append under a killed connection: 0 or 100 rows', async () => {
    const conn = await pool.connect();
    const pid = (await conn.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
    await conn.query('begin');
    const appending = store.append(
      'k',
      Array.from({ length: 100 }, (_, i) => ({ type: 't', data: { n: i } })),
      { client: conn },
    );
    await appending;
    await pool.query('select pg_terminate_backend($1)', [pid]);
    await conn.query('commit').catch(() => {});
    conn.release(true);
    const n = (await store.readStream('k')).length;
    expect([0, 100]).toContain(n);
  });

  it('snapshots (N = 7) and asOf equal the full fold', async () => {
    const base = Date.parse('2026-01-01T00:00:00.000Z');
    await store.append(
      's',
      Array.from({ length: 30 }, (_, i) => ({ type: 't', data: { n: i }, time: new Date(base + i * 1000) })),
    );
    const full = await store.aggregate('s', { initial: { total: 0, count: 0 }, evolve });
    await store.aggregate('s', { initial: { total: 0, count: 0 }, evolve, snapshotEvery: 7 });
    expect(await store.aggregate('s', { initial: { total: 0, count: 0 }, evolve, snapshotEvery: 7 })).toEqual(
      full,
    );
    const at = await store.aggregate('s', {
      initial: { total: 0, count: 0 },
      evolve,
      asOf: new Date(base + 10_000),
    });
    expect(at.state).toEqual({ total: 55, count: 11 });
  });

  it('gap: an append held open 2 s is delivered after later ones, never skipped', async () => {
    const seen: string[] = [];
    const sub = store
      .subscribe({ name: 'gap', from: 'end', pollIntervalMs: 20 })
      .pipe(handle((e) => void seen.push(e.id)))
      .subscribe();
    await new Promise((r) => setTimeout(r, 200));
    const slow = await pool.connect();
    await slow.query('begin');
    await store.append('g', [{ type: 't', id: 'late', data: { n: 0 } }], { client: slow });
    for (let i = 0; i < 10; i++)
      await store.append(`g${i}`, [{ type: 't', id: `early${i}`, data: { n: i } }]);
    await new Promise((r) => setTimeout(r, 2_000));
    expect(seen).toEqual([]); // held back behind the open transaction, not skipped past it
    await slow.query('commit');
    slow.release();
    await vi.waitFor(() => expect(seen).toHaveLength(11), { timeout: 15_000, interval: 100 });
    expect(seen[0]).toBe('late');
    sub.unsubscribe();
  });
});
