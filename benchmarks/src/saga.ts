// Sagas: throughput of runSaga() against plain handle() on memory://, and timer lateness at a given
// rate of new timers (memory store, and PostgreSQL when DATABASE_URL or the local default answers).
// Prints progress lines, then one line "RESULT <json>" for main.ts.
//   node --conditions=@switchyard/source benchmarks/src/saga.ts [events] [timers/s] [seconds]
import { randomBytes, randomUUID } from 'node:crypto';
import { connect, createEvent, handle, memoryIdempotencyStore } from '../../packages/core/src/index.ts';
import { pgInbox, pgSagaStore } from '../../packages/postgres/src/index.ts';
import {
  memorySagaStore,
  runSaga,
  type SagaStore,
  saga,
  sagaTimeouts,
  type TimeoutData,
} from '../../packages/saga/src/index.ts';

const events = Number(process.argv[2] ?? 50_000);
const rate = Number(process.argv[3] ?? 1_000);
const seconds = Number(process.argv[4] ?? 5);
const KEYS = 1_024;
const BATCH = 1_000;
const databaseUrl = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test';

const counter = saga<{ n: number }, { inc: { id: string } }>({
  name: 'bench',
  correlate: (e) => e.data.id,
  initial: { n: 0 },
  on: { inc: (s) => ({ n: s.n + 1 }) },
});

async function consumeAll(
  name: string,
  n: number,
  pipe: (bus: Awaited<ReturnType<typeof connect>>) => ReturnType<typeof handle>,
): Promise<number> {
  const bus = await connect({ url: `memory://saga-bench-${name}`, source: 'bench' });
  await bus.provision('in', { groups: ['g'] });
  for (let i = 0; i < n; i += BATCH) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + BATCH); j++) {
      const id = `k-${j % KEYS}`;
      batch.push({ type: 'inc', data: { id }, key: id });
    }
    await bus.publishBatch('in', batch);
  }
  let acked = 0;
  let others = 0;
  const started = performance.now();
  await new Promise<void>((resolve) => {
    const subscription = bus
      .consume('in', { group: 'g', prefetch: 256 })
      .pipe(pipe(bus))
      .subscribe((o) => {
        if (o.kind !== 'acked') others++;
        else if (++acked === n) {
          subscription.unsubscribe();
          resolve();
        }
      });
  });
  const perSecond = n / ((performance.now() - started) / 1_000);
  await bus.close({ drainTimeoutMs: 1_000 });
  if (others > 0) throw new Error(`${name}: ${others} outcomes other than acked`);
  return perSecond;
}

interface Lateness {
  timers: number;
  p50: number;
  p99: number;
  max: number;
}

/**
 * The timer machinery alone: `rate` new instances a second for `seconds`, each committed with one
 * timer due 1 s later, and one poller; lateness = when the poller emitted it − when it was due.
 * (The saga consumer adds its own latency on top when it handles the timeout event.)
 */
async function lateness(name: string, store: SagaStore): Promise<Lateness & { rate: number }> {
  const late: number[] = [];
  const measuring: SagaStore = {
    load: (saga, id) => store.load(saga, id),
    commit: (change) => store.commit(change),
    fireDueTimers: (limit, emit) =>
      store.fireDueTimers(limit, async (messages) => {
        const now = Date.now();
        for (const m of messages) late.push(now - ((m.event.data as TimeoutData).data as number));
        await emit(messages);
      }),
  };
  const poller = sagaTimeouts({
    store: measuring,
    bus: { publishWire: async () => {} },
    intervalMs: 50,
    batch: 500,
  });
  const total = rate * seconds;
  const tick = 10;
  const perTick = Math.max(1, Math.round((rate * tick) / 1_000));
  const start = performance.now();
  let sent = 0;
  // Not awaited per tick: commits queue on the pool, so a slow round trip does not slow the rate.
  const writes: Promise<unknown>[] = [];
  while (sent < total) {
    for (let i = 0; i < perTick && sent < total; i++, sent++) {
      const id = `${name}-${sent}`;
      const token = randomUUID();
      const dueAt = Date.now() + 1_000;
      const data: TimeoutData = { saga: 'timed', correlationId: id, timer: 't', token, data: dueAt };
      writes.push(
        store.commit({
          saga: 'timed',
          correlationId: id,
          eventId: randomUUID(),
          expectedVersion: 0,
          state: {},
          completed: false,
          timers: { t: token },
          schedule: [
            {
              timer: 't',
              token,
              afterMs: 1_000,
              topic: 'in',
              event: createEvent({ id: token, type: 't', data }, 'bench'),
            },
          ],
          cancel: [],
          messages: [],
        }),
      );
    }
    const wait = start + (sent / rate) * 1_000 - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
  await Promise.all(writes);
  const achieved = total / ((performance.now() - start) / 1_000);
  const deadline = Date.now() + 60_000;
  while (late.length < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await poller.stop();
  if (late.length < total)
    throw new Error(`${name}: only ${late.length} of ${total} timers fired within 60 s`);
  late.sort((a, b) => a - b);
  return {
    timers: total,
    rate: achieved,
    p50: percentile(late, 50),
    p99: percentile(late, 99),
    max: late.at(-1)!,
  };
}

/** Nearest-rank percentile of sorted values. */
const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

const fmt = (n: number) => Math.round(n).toLocaleString('en');
const result: Record<string, unknown> = {};

const plain = await consumeAll('plain', events, () => handle(() => {}, { concurrency: 16 }));
// The like-for-like baseline: the saga store de-duplicates by event id, so handle() with an
// idempotency store (the memory twin of the PostgreSQL inbox).
const deduped = await consumeAll('deduped', events, () =>
  handle(() => {}, {
    concurrency: 16,
    idempotency: { store: memoryIdempotencyStore({ maxEntries: events }) },
  }),
);
const withSaga = await consumeAll('saga', events, () =>
  runSaga(counter, { store: memorySagaStore(), concurrency: 16 }),
);
console.log(
  `memory://: handle() ${fmt(plain)} ev/s, with idempotency ${fmt(deduped)} ev/s, runSaga() with the memory store ${fmt(withSaga)} ev/s (${(withSaga / deduped).toFixed(2)}× the idempotent handle())`,
);
Object.assign(result, { events, handle: plain, handleIdempotent: deduped, saga: withSaga });

const memoryLate = await lateness('memory', memorySagaStore());
console.log(
  `timers, memory store, ${fmt(memoryLate.rate)}/s for ${seconds} s: lateness p50 ${memoryLate.p50} ms, p99 ${memoryLate.p99} ms, max ${memoryLate.max} ms`,
);
result.memoryTimers = memoryLate;

// PostgreSQL, when it answers: a per-run schema, dropped afterwards.
const { default: pg } = await import('pg');
const pool = new pg.Pool({ connectionString: databaseUrl, max: 16 });
pool.on('error', () => {});
const schema = `sy_bench_${randomBytes(5).toString('hex')}`;
try {
  await pool.query(`create schema ${schema}`);
} catch (error) {
  console.log(
    `PostgreSQL at ${new URL(databaseUrl).host} not reachable (${(error as Error).message}): skipped`,
  );
  await pool.end();
  console.log(`RESULT ${JSON.stringify(result)}`);
  process.exit(0);
}
try {
  const store = pgSagaStore({ pool, schema });
  const pgEvents = Math.min(events, 5_000);
  const pgSaga = await consumeAll('pg', pgEvents, () => runSaga(counter, { store, concurrency: 16 }));
  console.log(`runSaga() with the PostgreSQL store: ${fmt(pgSaga)} ev/s (${pgEvents} events)`);
  result.pgSaga = pgSaga;
  // #22's comparison: plain handle() with the PostgreSQL transactional inbox, the same events.
  const inbox = pgInbox(pool, { table: `${schema}.sy_inbox` });
  const pgInboxHandle = await consumeAll('pg-inbox', pgEvents, () =>
    handle(() => {}, { concurrency: 16, idempotency: { store: inbox, transactional: true } }),
  );
  console.log(`handle() with the PostgreSQL inbox: ${fmt(pgInboxHandle)} ev/s (${pgEvents} events)`);
  result.pgInboxHandle = pgInboxHandle;
  const pgLate = await lateness('pg', store);
  console.log(
    `timers, PostgreSQL store, ${fmt(pgLate.rate)}/s for ${seconds} s: lateness p50 ${pgLate.p50} ms, p99 ${pgLate.p99} ms, max ${pgLate.max} ms`,
  );
  result.pgTimers = pgLate;
} finally {
  await pool.query(`drop schema if exists ${schema} cascade`).catch(() => {});
  await pool.end();
}
console.log(`RESULT ${JSON.stringify(result)}`);
