// One-shot event-store figures on one connection, raw SQL beside ours (not yet wired into main.ts).
import { randomBytes } from 'node:crypto';
import { handle } from '@switchyard/core';
import { eventStore } from '@switchyard/postgres';
import pg from 'pg';

const url = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test';
const schema = `sy_bench_${randomBytes(4).toString('hex')}`;
const admin = new pg.Client({ connectionString: url });
await admin.connect();
await admin.query(`create schema ${schema}`);
const pool = new pg.Pool({ connectionString: url, max: 1, options: `-c search_path=${schema}` });
try {
  const store = await eventStore({ pool, source: 'bench' });
  await pool.query('create table raw_streams (stream_id text primary key, version bigint not null)');
  await pool.query(
    'create table raw_events (pos bigint generated always as identity primary key, stream_id text, version bigint, data jsonb, unique (stream_id, version))',
  );
  const data = { n: 1, text: 'x'.repeat(100) };
  const rate = async (label: string, n: number, perOp: number, op: (i: number) => Promise<unknown>) => {
    const t = performance.now();
    for (let i = 0; i < n; i++) await op(i);
    const s = (performance.now() - t) / 1000;
    console.log(`${label}: ${Math.round((n * perOp) / s)} ${perOp === 1 ? 'appends' : 'events'}/s`);
  };
  await rate('raw single', 2000, 1, async (i) => {
    const c = await pool.connect();
    await c.query('begin');
    await c.query(
      'insert into raw_streams values ($1, 1) on conflict (stream_id) do update set version = raw_streams.version + 1',
      [`r${i % 100}`],
    );
    await c.query('insert into raw_events (stream_id, version, data) values ($1, $2, $3)', [
      `r${i % 100}`,
      i,
      data,
    ]);
    await c.query('commit');
    c.release();
  });
  await rate('ours single', 2000, 1, (i) => store.append(`s${i % 100}`, [{ type: 't', data }]));
  const batch = Array.from({ length: 100 }, () => data);
  await rate('raw 100-event', 200, 100, async (i) => {
    const c = await pool.connect();
    await c.query('begin');
    await c.query(
      'insert into raw_streams values ($1, 100) on conflict (stream_id) do update set version = raw_streams.version + 100',
      [`b${i}`],
    );
    await c.query(
      'insert into raw_events (stream_id, version, data) select $1, v, $2 from generate_series(1, 100) v',
      [`b${i}`, data],
    );
    await c.query('commit');
    c.release();
  });
  await rate('ours 100-event', 200, 100, (i) =>
    store.append(
      `b${i}`,
      batch.map((d) => ({ type: 't', data: d })),
    ),
  );
  const total = (await pool.query('select count(*)::int as n from sy_events')).rows[0].n as number;
  const t = performance.now();
  await new Promise<void>((resolve, reject) =>
    store
      .subscribe({ name: 'bench', stopAtHead: true, batchSize: 1000, prefetch: 2000 })
      .pipe(handle(() => {}, { concurrency: 16 }))
      .subscribe({ complete: resolve, error: reject }),
  );
  console.log(
    `subscription catch-up: ${Math.round(total / ((performance.now() - t) / 1000))} events/s (${total} events)`,
  );
} finally {
  await pool.end();
  await admin.query(`drop schema ${schema} cascade`);
  await admin.end();
}
