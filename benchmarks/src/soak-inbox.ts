// The transactional-inbox soak (issue 19, "Done when"): 3 consumer processes in one group on a real
// broker, N events, a handler that increments a PostgreSQL counter per event id inside the inbox
// transaction, consumers SIGKILLed and restarted K times. Pass: every id counted once, none twice.
//   pnpm soak:inbox [--events 20000] [--kills 5] [--url nats://127.0.0.1:4222] [--members 3]
// Needs DATABASE_URL (default postgres://root@127.0.0.1:5432/test). Leaves nothing behind: its
// schema is dropped and its topic deleted, with its groups.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { sweepBroker } from '@switchyard/conformance';
import { connect, handle } from '@switchyard/core';
import { pgInbox } from '@switchyard/postgres';
import pg from 'pg';
import type { Pair } from './driver.ts';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    events: { type: 'string', default: '20000' },
    kills: { type: 'string', default: '5' },
    members: { type: 'string', default: '3' },
    url: { type: 'string', default: process.env.NATS_URL ?? 'nats://127.0.0.1:4222' },
    concurrency: { type: 'string', default: '16' },
  },
});
const dbUrl = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test';
const say = (line: string) =>
  process.stderr.write(`[soak ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

if (positionals[0] === 'member') await member(positionals[1]!, positionals[2]!, positionals[3]!);
else await parent();

/** One group member: consume, and per event run the counter increment inside the inbox transaction. */
async function member(schema: string, topic: string, name: string): Promise<void> {
  const pool = new pg.Pool({ connectionString: dbUrl, max: 20, options: `-c search_path=${schema}` });
  pool.on('error', () => {});
  const inbox = pgInbox(pool, { table: 'inbox', cleanupIntervalMs: 0 });
  const bus = await connect({ url: args.url!, source: `soak-${name}` });
  let handled = 0;
  bus
    .consume(topic, { group: 'soak', prefetch: 64 })
    .pipe(
      handle(
        async (event) => {
          await inbox.transaction(`soak:${event.id}`, 86_400_000, (tx) =>
            tx.query(
              'insert into counts (id, n) values ($1, 1) on conflict (id) do update set n = counts.n + 1',
              [event.id],
            ),
          );
          handled += 1;
        },
        { concurrency: Number(args.concurrency), retry: { maxAttempts: 100 } },
      ),
    )
    .subscribe();
  process.stdout.write('ready\n');
  setInterval(() => process.stdout.write(`handled ${handled}\n`), 5_000).unref();
  await new Promise(() => {});
}

async function parent(): Promise<void> {
  const events = Number(args.events);
  const kills = Number(args.kills);
  const members = Number(args.members);
  const run = randomBytes(4).toString('hex');
  const schema = `sy_soak_${run}`;
  const topic = `soak-${run}`;
  const db = new pg.Client({ connectionString: dbUrl });
  await db.connect();
  await db.query(`create schema ${schema}`);
  await db.query(`create table ${schema}.counts (id text primary key, n int not null)`);
  const children = new Map<number, ChildProcess>();
  const bus = await connect({ url: args.url!, source: 'soak' });
  const started = Date.now();
  try {
    await bus.provision(topic, { groups: ['soak'] });
    say(`publishing ${events} events to ${topic} on ${args.url}`);
    for (let i = 0; i < events; i += 1_000) {
      const batch = Array.from({ length: Math.min(1_000, events - i) }, (_, j) => ({
        type: 'soak.event',
        data: { n: i + j },
        key: `k-${(i + j) % 64}`,
      }));
      await bus.publishBatch(topic, batch);
    }
    const script = fileURLToPath(import.meta.url);
    const start = (slot: number) => {
      const child = spawn(
        process.execPath,
        [
          '--conditions=@switchyard/source',
          script,
          'member',
          schema,
          topic,
          `m${slot}`,
          '--url',
          args.url!,
          '--concurrency',
          args.concurrency!,
        ],
        { stdio: ['ignore', 'ignore', 'inherit'] },
      );
      children.set(slot, child);
    };
    for (let slot = 0; slot < members; slot++) start(slot);
    const counted = async () =>
      Number((await db.query<{ c: string }>(`select count(*) as c from ${schema}.counts`)).rows[0]!.c);

    // Kill at evenly spaced points of progress, each time a random member, restarted at once.
    let killed = 0;
    let last = -1;
    let stalledSince = Date.now();
    let reported = Date.now();
    for (;;) {
      const done = await counted();
      if (Date.now() - reported >= 15_000) {
        reported = Date.now();
        say(`${done}/${events} counted after ${Math.round((reported - started) / 1000)} s`);
      }
      if (done !== last) {
        last = done;
        stalledSince = Date.now();
      }
      if (done >= events) break;
      if (Date.now() - stalledSince > 120_000)
        throw new Error(`no progress for 120 s at ${done} of ${events}`);
      if (killed < kills && done >= (events * (killed + 1)) / (kills + 1)) {
        const slot = Math.floor(Math.random() * members);
        children.get(slot)?.kill('SIGKILL');
        killed += 1;
        say(`SIGKILL member m${slot} at ${done}/${events} (kill ${killed} of ${kills}); restarting it`);
        start(slot);
      }
      await sleep(250);
    }
    // Redeliveries of what the killed members held still arrive; give them time to (not) count twice.
    say(
      `all ${events} counted after ${Math.round((Date.now() - started) / 1000)} s; waiting 40 s for late redeliveries`,
    );
    await sleep(40_000);
    const { rows } = await db.query<{ ids: string; total: string; max: number | null; doubled: string }>(
      `select count(*) as ids, coalesce(sum(n), 0) as total, max(n) as max, count(*) filter (where n > 1) as doubled
       from ${schema}.counts`,
    );
    const r = rows[0]!;
    const lost = events - Number(r.ids);
    const doubled = Number(r.doubled);
    const report = {
      broker: new URL(args.url!).protocol.replace(':', ''),
      events,
      members,
      kills: killed,
      counted: Number(r.ids),
      lost,
      doubleEffects: doubled,
      increments: Number(r.total),
      seconds: Math.round((Date.now() - started) / 1000),
    };
    console.log(JSON.stringify(report));
    if (lost !== 0 || doubled !== 0 || killed !== kills) process.exitCode = 1;
  } finally {
    for (const child of children.values()) child.kill('SIGKILL');
    await bus.close({ drainTimeoutMs: 1_000 }).catch(() => {});
    await db.query(`drop schema ${schema} cascade`).catch(() => {});
    await db.end();
    await removeTopic(topic);
  }
}

/**
 * Delete the run's topic (and its soak group) with the benchmark pair's cleanup for the broker; on
 * SQS with the sweep, which knows every queue and SNS topic the transport made for it (the SQS
 * pair deletes only a plain queue).
 */
async function removeTopic(topic: string): Promise<void> {
  const url = new URL(args.url!);
  const scheme = url.protocol.slice(0, -1);
  const pairs: Record<string, () => Promise<{ pair: Pair }>> = {
    nats: () => import('./nats.ts'),
    kafka: () => import('./kafka.ts'),
    amqp: () => import('./rabbitmq.ts'),
  };
  try {
    if (scheme === 'sqs') {
      const endpoint =
        url.searchParams.get('endpoint') ?? process.env.SQS_ENDPOINT ?? 'http://127.0.0.1:4566';
      await sweepBroker('sqs', endpoint, { topics: [topic] });
    } else await (await pairs[scheme]?.())?.pair.cleanup('switchyard', [topic], 'soak');
  } catch (error) {
    say(`could not delete ${topic}: ${(error as Error).message}`);
  }
}
