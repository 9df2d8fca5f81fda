import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pgTestSchema, storeUrl } from '@switchyard/conformance';
import { EventStore, type NewEvent } from '@switchyard/eventsourcing';
import type pg from 'pg';
import {
  type EventStoreWorld,
  eventStoreSuite,
  type RunnerProcess,
} from '../../eventsourcing/test/event-store-suite.ts';
import { PgEventLog, PgProjectionStore, type SqlConnection } from '../src/index.ts';
import { pgTotals } from './fixtures/pg-totals.ts';

const url = storeUrl('postgres');
const child = fileURLToPath(new URL('./fixtures/projection-child.ts', import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A schema of its own per case: cases never see each other's events. */
async function world(): Promise<EventStoreWorld<SqlConnection>> {
  const schema = await pgTestSchema(url);
  await new PgEventLog(schema.pool).setup();
  const children: ChildProcess[] = [];

  /** A connection of its own (another session), with its backend pid. */
  async function session(): Promise<{ conn: pg.PoolClient; pid: number; done(): void }> {
    const pool = schema.newPool(1);
    const conn = await pool.connect();
    conn.on('error', () => {}); // terminated on purpose
    const pid = (await conn.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
    return { conn, pid, done: () => conn.release(true) };
  }

  return {
    // Each open() is another process: a pool of its own on the same tables.
    open: async (options) => new EventStore(new PgEventLog(schema.newPool(4)), options),
    projections: async (options) => new PgProjectionStore({ pool: schema.newPool(4), ...options }),
    totals: pgTotals(schema.pool),
    async killMidAppend(store: EventStore, streamId: string, events: NewEvent[], delayMs?: number) {
      const appender = await session();
      let locker: Awaited<ReturnType<typeof session>> | undefined;
      try {
        if (delayMs === undefined) {
          // Hold the stream's row: the append waits inside its statement until it is killed.
          locker = await session();
          await locker.conn.query('begin');
          await locker.conn.query('insert into sy_streams values ($1, 0)', [streamId]);
        }
        const appending = store.append(streamId, events, { client: appender.conn }).catch(() => {});
        if (delayMs === undefined) {
          for (let i = 0; ; i++) {
            const { rows } = await schema.pool.query<{ waiting: boolean }>(
              "select wait_event_type = 'Lock' as waiting from pg_stat_activity where pid = $1",
              [appender.pid],
            );
            if (rows[0]?.waiting) break;
            if (i > 500) throw new Error('the append never waited on the row lock');
            await sleep(10);
          }
        } else await sleep(delayMs);
        await schema.pool.query('select pg_terminate_backend($1)', [appender.pid]);
        await appending;
      } finally {
        if (locker) {
          await locker.conn.query('rollback').catch(() => {});
          locker.done();
        }
        appender.done();
      }
    },
    async holdAppend(store: EventStore, streamId: string, events: NewEvent[]) {
      const s = await session();
      await s.conn.query('begin');
      await store.append(streamId, events, { client: s.conn });
      const end = (sql: string) => async () => {
        await s.conn.query(sql);
        s.done();
      };
      return { commit: end('commit'), rollback: end('rollback') };
    },
    spawnRunner(name: string, type: string, table: string): RunnerProcess {
      const proc = spawn(
        process.execPath,
        ['--conditions=@switchyard/source', child, url, schema.schema, name, type, table],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      children.push(proc);
      let errors = '';
      proc.stderr!.on('data', (chunk: Buffer) => {
        errors += chunk.toString();
      });
      const active = new Promise<void>((resolve, reject) => {
        proc.stdout!.on('data', (chunk: Buffer) => {
          if (chunk.toString().includes('active')) resolve();
        });
        proc.on('exit', (code, signal) =>
          reject(new Error(`runner process exited (${code ?? signal}): ${errors}`)),
        );
      });
      active.catch(() => {});
      return { active, kill: () => proc.kill('SIGKILL') };
    },
    async close() {
      for (const proc of children) proc.kill('SIGKILL');
      await schema.drop();
    },
  };
}

eventStoreSuite<SqlConnection>({ name: 'postgres', world });
