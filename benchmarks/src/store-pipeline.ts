// handle() on memory:// at concurrency 16 with a durable idempotency store (Redis or PostgreSQL),
// and in the same process run the raw primitive beside it: Redis SET NX PX from 16 clients, or
// PostgreSQL claim + complete as two autocommit statements from 16 connections.
// Prints one JSON line: { store, raw, rawLabel, handle, events }.
//   node --conditions=@switchyard/source benchmarks/src/store-pipeline.ts redis|pg [events]
import { randomBytes } from 'node:crypto';
import { pgIdempotencyStore } from '@switchyard/postgres';
import { redisIdempotencyStore } from '@switchyard/redis';
import { connect, handle, type IdempotencyStore } from '../../packages/core/src/index.ts';

const kind = process.argv[2] === 'pg' ? 'pg' : 'redis';
const events = Number(process.argv[3] ?? (kind === 'pg' ? 30_000 : 100_000));
const CONCURRENCY = 16;
const run = randomBytes(4).toString('hex');
const say = (line: string) => process.stderr.write(`${line}\n`);

interface Backend {
  store: IdempotencyStore;
  raw(ops: number): Promise<number>;
  cleanup(): Promise<void>;
}

async function redisBackend(): Promise<Backend> {
  const { Redis } = await import('ioredis');
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const prefix = `sy_bench_${run}:`;
  const main = new Redis(url);
  const clients = Array.from({ length: CONCURRENCY }, () => new Redis(url));
  return {
    store: redisIdempotencyStore(main, { prefix: `${prefix}h:` }),
    async raw(ops) {
      const per = Math.ceil(ops / CONCURRENCY);
      const started = performance.now();
      await Promise.all(
        clients.map(async (client, c) => {
          for (let i = 0; i < per; i++) await client.set(`${prefix}raw:${c}:${i}`, 'p', 'PX', 60_000, 'NX');
        }),
      );
      return (per * CONCURRENCY) / ((performance.now() - started) / 1_000);
    },
    async cleanup() {
      let cursor = '0';
      do {
        const [next, keys] = await main.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 5000);
        cursor = next;
        if (keys.length > 0) await main.unlink(...keys);
      } while (cursor !== '0');
      main.disconnect();
      for (const client of clients) client.disconnect();
    },
  };
}

async function pgBackend(): Promise<Backend> {
  const { default: pg } = await import('pg');
  const url = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test';
  const schema = `sy_bench_${run}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  const pool = new pg.Pool({ connectionString: url, max: CONCURRENCY, options: `-c search_path=${schema}` });
  const store = pgIdempotencyStore(pool, { cleanupIntervalMs: 0 });
  await store.migrate();
  await pool.query(
    'create table raw (key text primary key, state text not null, owner text, expires_at timestamptz not null)',
  );
  return {
    store,
    async raw(ops) {
      const per = Math.ceil(ops / CONCURRENCY);
      const started = performance.now();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async (_, c) => {
          for (let i = 0; i < per; i++) {
            const key = `${c}:${i}`;
            await pool.query(
              `insert into raw values ($1, 'pending', $2, now() + interval '60 s')
               on conflict (key) do update set owner = excluded.owner where raw.expires_at <= now() returning 1`,
              [key, 't'],
            );
            await pool.query(
              `update raw set state = 'done', expires_at = now() + interval '60 s' where key = $1 and owner = $2`,
              [key, 't'],
            );
          }
        }),
      );
      return (per * CONCURRENCY) / ((performance.now() - started) / 1_000);
    },
    async cleanup() {
      await pool.end();
      await admin.query(`drop schema ${schema} cascade`);
      await admin.end();
    },
  };
}

async function throughHandle(store: Backend['store']): Promise<number> {
  const bus = await connect({ url: `memory://store-bench-${run}`, source: 'bench' });
  await bus.provision('bench', { groups: ['g'] });
  for (let i = 0; i < events; i += 1_000) {
    const batch = [];
    for (let j = i; j < Math.min(events, i + 1_000); j++)
      batch.push({ type: 'bench', data: { n: j }, key: `k-${j % 64}` });
    await bus.publishBatch('bench', batch);
  }
  let acked = 0;
  let others = 0;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  const started = performance.now();
  const sub = bus
    .consume<{ n: number }>('bench', { group: 'g', prefetch: 256 })
    .pipe(
      handle(() => {}, {
        concurrency: CONCURRENCY,
        idempotency: { store, ttlMs: 600_000 },
      }),
    )
    .subscribe((o) => {
      if (o.kind === 'acked') acked += 1;
      else others += 1;
      if (acked + others === events) done();
    });
  await finished;
  const rate = events / ((performance.now() - started) / 1_000);
  sub.unsubscribe();
  await bus.close({ drainTimeoutMs: 1_000 });
  if (others > 0) throw new Error(`${others} of ${events} events not acked`);
  say(`handle(): ${Math.round(rate)} ev/s`);
  return rate;
}

const backend = kind === 'pg' ? await pgBackend() : await redisBackend();
try {
  const raw = await backend.raw(kind === 'pg' ? 20_000 : 100_000);
  say(`raw ${kind}: ${Math.round(raw)} ops/s`);
  const rate = await throughHandle(backend.store);
  console.log(
    JSON.stringify({
      store: kind,
      events,
      raw,
      rawLabel: kind === 'pg' ? 'claim+complete pairs/s, 16 conns' : 'SET NX PX ops/s, 16 clients',
      handle: rate,
    }),
  );
} finally {
  await backend.cleanup();
}
