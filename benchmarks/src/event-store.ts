// The PostgreSQL event store against raw SQL doing the same work, on one connection, rounds
// alternated raw/ours: single-event appends, 100-event appends, subscription catch-up through
// handle(), projection rebuild into a PostgreSQL table. Progress on stderr, then one line
// "RESULT <json>" for main.ts.
//   node --conditions=@switchyard/source benchmarks/src/event-store.ts [singles] [batches] [rounds]
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { handle } from '../../packages/core/src/index.ts';
import { projection, rebuildProjection } from '../../packages/eventsourcing/src/index.ts';
import {
  eventStore,
  LOG_START,
  LogReader,
  PgProjectionStore,
  type SqlConnection,
} from '../../packages/postgres/src/index.ts';

const singles = Number(process.argv[2] ?? 1_000);
const batches = Number(process.argv[3] ?? 100);
const rounds = Number(process.argv[4] ?? 3);
const url = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test';
// A sweepable prefix (see packages/conformance/src/sweep/prefixes.ts): dropped at the end.
const schema = `sy_bench_${randomBytes(4).toString('hex')}`;
const say = (line: string) => process.stderr.write(`${line}\n`);
const data = { n: 1, text: 'x'.repeat(100) };

export interface EventStoreBench {
  singles: { raw: number[]; ours: number[] };
  batch100: { raw: number[]; ours: number[] };
  catchUp: { raw: number[]; ours: number[]; events: number };
  rebuild: { raw: number[]; ours: number[]; events: number };
  /** The same rebuild with a batch handler (one multi-row upsert per batch of 500). */
  rebuildBatch: { raw: number[]; ours: number[]; events: number };
}

const admin = new pg.Client({ connectionString: url });
await admin.connect();
await admin.query(`create schema ${schema}`);
// One connection each side, as the targets are stated.
const pool = new pg.Pool({ connectionString: url, max: 1, options: `-c search_path=${schema}` });
const rawPool = new pg.Pool({ connectionString: url, max: 1, options: `-c search_path=${schema}` });
// The projection's lock connection, on which its batches commit (the store reads on `pool`).
const lockPool = new pg.Pool({ connectionString: url, max: 2, options: `-c search_path=${schema}` });
try {
  const store = await eventStore({ pool, source: 'bench' });
  // Raw SQL gets the same table (columns, indexes, tx_id) and does the same two statements.
  await admin.query(
    `create table ${schema}.raw_streams (stream_id text primary key, version bigint not null)`,
  );
  await admin.query(`create table ${schema}.raw_events (like ${schema}.sy_events including all)`);
  const raw = await rawPool.connect();
  // Every row gets its own id, type, source, time and data, as the store writes them. Until stop 32
  // the raw side wrote one shared data value, a constant type and source and now(): lighter rows
  // (3.17 against 4.05 ms per 100 events measured once), so the ratio measured the baseline's rows
  // more than the store's cost.
  const rawAppend = async (stream: string, n: number) => {
    const ids = new Array<string>(n);
    const types = new Array<string>(n);
    const sources = new Array<string>(n);
    const times = new Array<string>(n);
    let json = '[';
    for (let i = 0; i < n; i++) {
      ids[i] = randomUUID();
      types[i] = 't';
      sources[i] = 'bench';
      times[i] = new Date().toISOString();
      json += (i === 0 ? '' : ',') + JSON.stringify(data);
    }
    json += ']';
    await raw.query('begin');
    const { rows } = await raw.query<{ v: string }>(
      'insert into raw_streams values ($1, $2) on conflict (stream_id) do update set version = raw_streams.version + $2 returning version - $2 as v',
      [stream, n],
    );
    await raw.query(
      "insert into raw_events (stream_id, version, id, type, source, time, data, ext) select $1, $2::bigint + o, i, ty, so, ti, $7::jsonb -> (o::int - 1), '{}' from unnest($3::text[], $4::text[], $5::text[], $6::timestamptz[]) with ordinality u(i, ty, so, ti, o)",
      [stream, rows[0]!.v, ids, types, sources, times, json],
    );
    await raw.query('commit');
  };
  const rate = async (n: number, perOp: number, op: (i: number) => Promise<unknown>) => {
    const started = performance.now();
    for (let i = 0; i < n; i++) await op(i);
    return (n * perOp) / ((performance.now() - started) / 1_000);
  };
  const result: EventStoreBench = {
    singles: { raw: [], ours: [] },
    batch100: { raw: [], ours: [] },
    catchUp: { raw: [], ours: [], events: 0 },
    rebuild: { raw: [], ours: [], events: 0 },
    rebuildBatch: { raw: [], ours: [], events: 0 },
  };
  const batch = Array.from({ length: 100 }, () => ({ type: 't', data }));
  // Warm both sides (plans, caches) before measuring.
  await rate(50, 1, (i) => rawAppend(`w${i}`, 1));
  await rate(50, 1, (i) => store.append(`w${i}`, [{ type: 't', data }]));
  for (let r = 0; r < rounds; r++) {
    // ABBA: raw first on even rounds, ours first on odd ones.
    const sides = [
      async () => result.singles.raw.push(await rate(singles, 1, (i) => rawAppend(`r${r}-${i % 100}`, 1))),
      async () =>
        result.singles.ours.push(
          await rate(singles, 1, (i) => store.append(`o${r}-${i % 100}`, [{ type: 't', data }])),
        ),
    ];
    for (const side of r % 2 === 0 ? sides : sides.reverse()) await side();
    const bulk = [
      async () => result.batch100.raw.push(await rate(batches, 100, (i) => rawAppend(`rb${r}-${i}`, 100))),
      async () =>
        result.batch100.ours.push(await rate(batches, 100, (i) => store.append(`ob${r}-${i}`, batch))),
    ];
    for (const side of r % 2 === 0 ? bulk : bulk.reverse()) await side();
    say(
      `round ${r + 1}: single appends/s raw ${Math.round(result.singles.raw.at(-1)!)} ours ${Math.round(result.singles.ours.at(-1)!)};` +
        ` 100-event appends ev/s raw ${Math.round(result.batch100.raw.at(-1)!)} ours ${Math.round(result.batch100.ours.at(-1)!)}`,
    );
  }

  // Catch-up: raw = the same gap-safe query in a loop; ours = subscribe() through handle().
  const total = Number((await pool.query('select count(*) as n from sy_events')).rows[0].n);
  result.catchUp.events = total;
  const reader = new LogReader({
    table: 'sy_events',
    columns: 'stream_id, version, id, type, source, time, data, ext',
  });
  for (let r = 0; r < rounds; r++) {
    let started = performance.now();
    let at = LOG_START;
    for (;;) {
      const rows = await reader.read(raw, at, 1_000);
      if (rows.length === 0) break;
      at = rows[rows.length - 1]!.checkpoint;
    }
    result.catchUp.raw.push(total / ((performance.now() - started) / 1_000));
    started = performance.now();
    let seen = 0;
    await new Promise<void>((resolve, reject) =>
      store
        .subscribe({ name: `bench-${r}`, stopAtHead: true, batchSize: 1_000, prefetch: 2_000 })
        .pipe(
          handle(
            () => {
              seen++;
            },
            { concurrency: 16 },
          ),
        )
        .subscribe({ complete: resolve, error: reject }),
    );
    if (seen !== total) throw new Error(`catch-up saw ${seen} of ${total} events`);
    result.catchUp.ours.push(total / ((performance.now() - started) / 1_000));
    say(
      `catch-up (${total} events) ev/s: raw ${Math.round(result.catchUp.raw.at(-1)!)} ours ${Math.round(result.catchUp.ours.at(-1)!)}`,
    );
  }

  // Rebuild into a table: raw = one INSERT … SELECT; ours = rebuildProjection, a handler per event.
  await pool.query(
    'create table summary_raw (stream_id text primary key, total bigint not null, events int not null)',
  );
  await pool.query(
    'create table summary_v1 (stream_id text primary key, total bigint not null, events int not null)',
  );
  await pool.query(
    'create table summary_b_v1 (stream_id text primary key, total bigint not null, events int not null)',
  );
  result.rebuild.events = total;
  result.rebuildBatch.events = total;
  const projections = new PgProjectionStore({ pool: lockPool });
  const summary = projection<SqlConnection>({
    name: 'summary',
    version: 1,
    handlers: {
      t: (e, { tx, stored }) =>
        tx.query(
          'insert into summary_v1 values ($1, $2, 1) on conflict (stream_id) do update set total = summary_v1.total + excluded.total, events = summary_v1.events + 1',
          [stored.streamId, (e.data as { n: number }).n],
        ),
    },
    truncate: (tx) => tx.query('truncate summary_v1'),
  });
  const summaryBatch = projection<SqlConnection>({
    name: 'summary_b',
    version: 1,
    batch: {
      types: ['t'],
      handle: async (events, { tx }) => {
        const byStream = new Map<string, { total: number; events: number }>();
        for (const e of events) {
          const row = byStream.get(e.streamId) ?? { total: 0, events: 0 };
          row.total += (e.event.data as { n: number }).n;
          row.events += 1;
          byStream.set(e.streamId, row);
        }
        await tx.query(
          'insert into summary_b_v1 select * from unnest($1::text[], $2::bigint[], $3::int[]) on conflict (stream_id) do update set total = summary_b_v1.total + excluded.total, events = summary_b_v1.events + excluded.events',
          [
            [...byStream.keys()],
            [...byStream.values()].map((r) => r.total),
            [...byStream.values()].map((r) => r.events),
          ],
        );
      },
    },
    truncate: (tx) => tx.query('truncate summary_b_v1'),
  });
  for (let r = 0; r < rounds; r++) {
    let started = performance.now();
    await raw.query('begin');
    await raw.query('truncate summary_raw');
    await raw.query(
      "insert into summary_raw select stream_id, sum((data->>'n')::bigint), count(*) from sy_events where type = 't' group by stream_id",
    );
    await raw.query('commit');
    result.rebuild.raw.push(total / ((performance.now() - started) / 1_000));
    started = performance.now();
    const rebuilt = await rebuildProjection(summary, { store, projections, batchSize: 500 });
    result.rebuild.ours.push(rebuilt.events / ((performance.now() - started) / 1_000));
    started = performance.now();
    const batched = await rebuildProjection(summaryBatch, { store, projections, batchSize: 500 });
    result.rebuildBatch.ours.push(batched.events / ((performance.now() - started) / 1_000));
    result.rebuildBatch.raw.push(result.rebuild.raw.at(-1)!);
    say(
      `rebuild (${total} events) ev/s: raw INSERT…SELECT ${Math.round(result.rebuild.raw.at(-1)!)}, ours per-event handler ${Math.round(result.rebuild.ours.at(-1)!)}, batch handler ${Math.round(result.rebuildBatch.ours.at(-1)!)}`,
    );
  }
  const same = await pool.query(
    'select count(*) as n from summary_raw r full join summary_v1 v using (stream_id) where r.total is distinct from v.total or r.events is distinct from v.events',
  );
  if (Number(same.rows[0].n) !== 0) throw new Error('the rebuilt table differs from the raw one');
  const sameB = await pool.query(
    'select count(*) as n from summary_raw r full join summary_b_v1 v using (stream_id) where r.total is distinct from v.total or r.events is distinct from v.events',
  );
  if (Number(sameB.rows[0].n) !== 0) throw new Error('the batch-rebuilt table differs from the raw one');
  raw.release();
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
} finally {
  await pool.end();
  await rawPool.end();
  await lockPool.end();
  await admin.query(`drop schema ${schema} cascade`);
  await admin.end();
}
