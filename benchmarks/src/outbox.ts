// The transactional outbox relay against the same bus's own batched publish, per broker, in one
// process: (1) publishBatch from 16 concurrent callers, batches of 500 (the baseline); (2) the same
// number of events committed to the outbox first, then outboxRelay (16 shards, batches of 500)
// moving them, timed from its start to the broker's last ack; (3) commit-to-broker-ack latency at a
// steady rate, one event per transaction, with NOTIFY and with polling only.
// Prints progress on stderr, then one line "RESULT <json>" for main.ts.
//   node --conditions=@switchyard/source benchmarks/src/outbox.ts <json settings>
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { launchPrivatePostgres, sweepBroker } from '../../packages/conformance/src/index.ts';
import { type Bus, connect, type EventInput, type WireMessage } from '../../packages/core/src/index.ts';
import { outboxRelay, pgOutbox } from '../../packages/postgres/src/index.ts';

export interface OutboxSettings {
  readonly brokers: readonly string[];
  /** Events per throughput run, per broker. */
  readonly events: Readonly<Record<string, number>>;
  readonly size: number;
  /** Latency run: events per second, seconds. */
  readonly rate: number;
  readonly seconds: number;
  /** 'private': a PostgreSQL cluster of this run's own (no other transaction holds back xmin). */
  readonly pg: 'private' | 'url';
}

export interface OutboxBrokerResult {
  readonly broker: string;
  readonly events: number;
  readonly publishBatch: number;
  readonly relay: number;
  readonly notify: Latency;
  readonly poll: Latency & { pollMs: number };
}

interface Latency {
  readonly n: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

const settings = JSON.parse(process.argv[2] ?? '{}') as OutboxSettings;
const say = (line: string) => process.stderr.write(`${line}\n`);
const fmt = (n: number) => Math.round(n).toLocaleString('en');
const run = randomBytes(4).toString('hex');
const SHARDS = 16;
const BATCH = 500;
const KEYS = 64;
const POLL_MS = 500;

const kafka = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const amqp = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const sqs = process.env.SQS_ENDPOINT ?? 'http://127.0.0.1:4566';
const nats = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const URLS: Record<
  string,
  { url: string; sweep?: [name: 'kafka' | 'rabbitmq' | 'sqs' | 'nats', url: string] }
> = {
  memory: { url: `memory://bench-outbox-${run}` },
  kafka: { url: `kafka://${kafka}`, sweep: ['kafka', kafka] },
  rabbitmq: { url: amqp, sweep: ['rabbitmq', amqp] },
  sqs: { url: `sqs://?endpoint=${encodeURIComponent(sqs)}&region=us-east-1`, sweep: ['sqs', sqs] },
  nats: { url: nats, sweep: ['nats', nats] },
};

const pad = 'x'.repeat(Math.max(0, settings.size - 40));
const input = (i: number): EventInput => ({ type: 'bench.outbox', key: `k${i % KEYS}`, data: { i, pad } });

/** Nearest-rank percentile of sorted values. */
const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;

/** The bus as the relay sees it, noting when the broker confirmed each event (by id). */
function observed(bus: Bus) {
  const acked = new Map<string, number>();
  let count = 0;
  return {
    acked,
    get count() {
      return count;
    },
    async publishWire(topic: string, messages: readonly WireMessage[]) {
      await bus.publishWire(topic, messages);
      const now = performance.now();
      count += messages.length;
      for (const m of messages) acked.set(m.headers.id!, now);
    },
  };
}

async function baseline(bus: Bus, topic: string, events: number): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: SHARDS }, async () => {
      for (;;) {
        const from = next;
        if (from >= events) return;
        next = Math.min(events, from + BATCH);
        const batch: EventInput[] = [];
        for (let i = from; i < next; i++) batch.push(input(i));
        await bus.publishBatch(topic, batch);
      }
    }),
  );
  return events / ((performance.now() - started) / 1_000);
}

async function inTx<R>(
  pool: pg.Pool,
  work: (tx: pg.PoolClient) => Promise<R>,
): Promise<{ result: R; committed: number }> {
  const conn = await pool.connect();
  try {
    await conn.query('begin');
    const result = await work(conn);
    await conn.query('commit');
    return { result, committed: performance.now() };
  } catch (error) {
    await conn.query('rollback').catch(() => {});
    throw error;
  } finally {
    conn.release();
  }
}

async function relayThroughput(pool: pg.Pool, bus: Bus, topic: string, events: number): Promise<number> {
  const table = `ob_tp_${run}`;
  const outbox = pgOutbox({ pool, table, source: 'bench-outbox' });
  await outbox.migrate();
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (;;) {
        const from = next;
        if (from >= events) return;
        next = Math.min(events, from + BATCH);
        const batch: EventInput[] = [];
        for (let i = from; i < next; i++) batch.push(input(i));
        await inTx(pool, (tx) => outbox.publishBatch(tx, topic, batch));
      }
    }),
  );
  const sink = observed(bus);
  const started = performance.now();
  const relay = outboxRelay({ pool, bus: sink, table, shards: SHARDS, batchSize: BATCH });
  while (sink.count < events) await new Promise((r) => setTimeout(r, 5));
  const perSecond = events / ((performance.now() - started) / 1_000);
  await relay.close();
  await pool.query(`drop table ${table} cascade`);
  return perSecond;
}

async function latency(pool: pg.Pool, bus: Bus, topic: string, notify: boolean): Promise<Latency> {
  const table = `ob_lat_${notify ? 'n' : 'p'}_${run}`;
  const outbox = pgOutbox({ pool, table, source: 'bench-outbox' });
  await outbox.migrate();
  const sink = observed(bus);
  const relay = outboxRelay({
    pool,
    bus: sink,
    table,
    shards: SHARDS,
    batchSize: BATCH,
    notify,
    pollMs: POLL_MS,
  });
  // Let it take its shards before the clock starts.
  while (relay.shards.length < SHARDS) await new Promise((r) => setTimeout(r, 20));
  const committed = new Map<string, number>();
  const total = Math.round(settings.rate * settings.seconds);
  const start = performance.now();
  const writes: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i / settings.rate) * 1_000;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    writes.push(
      inTx(pool, (tx) => outbox.publish(tx, topic, input(i))).then(({ result, committed: at }) => {
        committed.set(result.id, at);
      }),
    );
  }
  await Promise.all(writes);
  const deadline = Date.now() + 30_000;
  while (sink.count < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await relay.close();
  await pool.query(`drop table ${table} cascade`);
  const lags = [...committed].map(([id, at]) => Math.max(0, (sink.acked.get(id) ?? Number.NaN) - at));
  if (lags.some(Number.isNaN))
    throw new Error(`latency: ${lags.filter(Number.isNaN).length} events never acked`);
  lags.sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 10) / 10;
  return {
    n: lags.length,
    p50: round(percentile(lags, 50)),
    p99: round(percentile(lags, 99)),
    max: round(lags.at(-1)!),
  };
}

const server = settings.pg === 'private' ? await launchPrivatePostgres() : undefined;
const databaseUrl = server?.url ?? process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test';
const schema = `sy_bench_${run}`;
const admin = new pg.Client({ connectionString: databaseUrl });
await admin.connect();
await admin.query(`create schema ${schema}`);
// The relay holds a connection per shard, the writers up to 16 more.
const pool = new pg.Pool({
  connectionString: databaseUrl,
  max: SHARDS + 24,
  options: `-c search_path=${schema}`,
});
pool.on('error', () => {});
say(`PostgreSQL: ${server ? `a private cluster (${server.version})` : new URL(databaseUrl).host}`);

const results: (OutboxBrokerResult | { broker: string; error: string })[] = [];
try {
  for (const broker of settings.brokers) {
    const target = URLS[broker];
    if (!target) throw new Error(`outbox bench: unknown broker '${broker}'`);
    const events = settings.events[broker] ?? 10_000;
    const topics = [
      `bench-outbox-${run}-${broker}-pub`,
      `bench-outbox-${run}-${broker}-relay`,
      `bench-outbox-${run}-${broker}-lat`,
    ];
    let bus: Bus | undefined;
    try {
      bus = await connect({ url: target.url, source: 'bench-outbox' });
      for (const topic of topics) await bus.provision(topic);
      // A short warm-up: connections, topic metadata, JIT.
      await baseline(bus, topics[0]!, Math.min(2_000, events));
      const publishBatch = await baseline(bus, topics[0]!, events);
      const relay = await relayThroughput(pool, bus, topics[1]!, events);
      say(
        `${broker}: publishBatch ${fmt(publishBatch)} ev/s, relay ${fmt(relay)} ev/s (${(relay / publishBatch).toFixed(2)}×), ${events} events`,
      );
      const notify = await latency(pool, bus, topics[2]!, true);
      const poll = await latency(pool, bus, topics[2]!, false);
      say(
        `${broker}: commit→ack with NOTIFY p50 ${notify.p50} ms, p99 ${notify.p99} ms; polling every ${POLL_MS} ms p50 ${poll.p50} ms, p99 ${poll.p99} ms (${notify.n} events at ${settings.rate}/s)`,
      );
      results.push({ broker, events, publishBatch, relay, notify, poll: { ...poll, pollMs: POLL_MS } });
    } catch (error) {
      say(`${broker}: failed, ${(error as Error).message}`);
      results.push({ broker, error: (error as Error).message });
    } finally {
      await bus?.close({ drainTimeoutMs: 1_000 }).catch(() => {});
      if (target.sweep)
        await sweepBroker(target.sweep[0], target.sweep[1], {
          topics,
          match: (t) => topics.includes(t),
        }).catch(() => {});
    }
  }
} finally {
  await pool.end();
  await admin.query(`drop schema if exists ${schema} cascade`).catch(() => {});
  await admin.end();
  await server?.stop();
}
console.log(`RESULT ${JSON.stringify(results)}`);
