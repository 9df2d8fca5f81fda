import type { SwitchyardEvent } from '@switchyard/core';
import {
  type OutgoingMessage,
  type SagaChange,
  SagaConcurrencyError,
  type SagaRecord,
  type SagaStore,
} from '@switchyard/saga';
import type { SqlClient, SqlPool } from '../sql.ts';
import { sagaMigrator, sagaTables } from './schema.ts';

/**
 * Where a saga's outgoing messages go inside its transaction: the transactional outbox. The
 * PostgreSQL outbox of this package satisfies it; the relay publishes after commit, so a crash
 * between the state commit and the publish loses nothing.
 */
export interface SagaOutbox {
  /** Write `event` (fully built: its id is kept) for `topic` as part of transaction `tx`. */
  publish(tx: SqlClient, topic: string, event: SwitchyardEvent): Promise<unknown>;
}

export interface PgSagaStoreOptions {
  /** A pg.Pool or anything shaped like it. The store never closes it. */
  readonly pool: SqlPool;
  /** Schema of the tables. Default: the connection's search_path. */
  readonly schema?: string;
  /**
   * The outbox for commands, events and timeout events, written in the same transaction as the
   * state. Without it the store hands them back to be published after commit (runSaga and the
   * timer poller do), and a crash in between loses a command: use an outbox in production.
   */
  readonly outbox?: SagaOutbox;
  /** Create the tables on first use. Default: true. */
  readonly migrate?: boolean;
}

interface SagaRow {
  state: unknown;
  version: number;
  completed: boolean;
  timers: Record<string, string>;
}

interface FiredRow {
  topic: string;
  event: SwitchyardEvent;
  fired_at: Date;
}

/**
 * The PostgreSQL SagaStore: `sy_sagas` (state + version, optimistic update), `sy_saga_handled`
 * (the duplicate guard, written in the same transaction) and `sy_saga_timeouts` (durable timers,
 * fired by `FOR UPDATE SKIP LOCKED` pollers: timers are independent, so no order is lost).
 */
export function pgSagaStore(options: PgSagaStoreOptions): SagaStore {
  const { pool, outbox } = options;
  const t = sagaTables(options.schema);
  const migrate = options.migrate === false ? async () => {} : sagaMigrator(pool, t);

  const inTransaction = async <R>(work: (tx: SqlClient) => Promise<R>): Promise<R> => {
    await migrate();
    const conn = await pool.connect();
    let broken: Error | undefined;
    try {
      await conn.query('begin');
      const result = await work(conn);
      await conn.query('commit');
      return result;
    } catch (error) {
      await conn.query('rollback').catch((rollbackError: unknown) => {
        broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      });
      throw error;
    } finally {
      conn.release(broken);
    }
  };

  const write = async (tx: SqlClient, messages: readonly OutgoingMessage[]) => {
    for (const message of messages) await outbox!.publish(tx, message.topic, message.event);
  };

  /** Thrown inside a transaction to roll it back with a result rather than an error. */
  class Duplicate {}

  return {
    async load<S>(saga: string, correlationId: string): Promise<SagaRecord<S> | undefined> {
      await migrate();
      const { rows } = await pool.query<SagaRow>(
        `select state, version, completed_at is not null as completed, timers
           from ${t.sagas} where saga = $1 and correlation_id = $2`,
        [saga, correlationId],
      );
      const row = rows[0];
      return row === undefined
        ? undefined
        : { state: row.state as S, version: row.version, completed: row.completed, timers: row.timers };
    },

    async commit<S>(change: SagaChange<S>) {
      const { saga, correlationId: id } = change;
      try {
        await inTransaction(async (tx) => {
          // First the event id: a concurrent copy of the same event waits here for this one, then
          // finds it and stops. Then the state, guarded by the version that was loaded.
          const marked = await tx.query(
            `insert into ${t.handled} (saga, correlation_id, event_id) values ($1, $2, $3) on conflict do nothing`,
            [saga, id, change.eventId],
          );
          if (marked.rowCount === 0) throw new Duplicate();
          const state = JSON.stringify(change.state);
          const timers = JSON.stringify(change.timers);
          const written =
            change.expectedVersion === 0
              ? await tx.query(
                  `insert into ${t.sagas} (saga, correlation_id, state, version, timers, completed_at)
                   values ($1, $2, $3, 1, $4, case when $5::boolean then now() end)
                   on conflict do nothing`,
                  [saga, id, state, timers, change.completed],
                )
              : await tx.query(
                  `update ${t.sagas}
                      set state = $3, version = version + 1, timers = $4, updated_at = now(),
                          completed_at = case when $5::boolean then now() end
                    where saga = $1 and correlation_id = $2 and version = $6`,
                  [saga, id, state, timers, change.completed, change.expectedVersion],
                );
          if (written.rowCount === 0) throw new SagaConcurrencyError(saga, id, change.expectedVersion);

          const replaced = [...change.cancel, ...change.schedule.map((request) => request.timer)];
          if (change.completed || replaced.length > 0) {
            // Fired rows go too: their token lives on in sy_sagas.timers until handled.
            await tx.query(
              `delete from ${t.timeouts}
                where saga = $1 and correlation_id = $2
                  and ($3::boolean or timer = any($4::text[]) or fired_at is not null)`,
              [saga, id, change.completed, replaced],
            );
          }
          if (change.completed) {
            // Later events are ignored by completion; the ids are no longer needed.
            await tx.query(`delete from ${t.handled} where saga = $1 and correlation_id = $2`, [saga, id]);
          } else if (change.schedule.length > 0) {
            await tx.query(
              `insert into ${t.timeouts} (saga, correlation_id, timer, token, due_at, topic, event)
               select $1, $2, r.timer, r.token, now() + r.after_ms * interval '1 millisecond', r.topic, r.event
                 from jsonb_to_recordset($3::jsonb) as r(timer text, token text, after_ms float8, topic text, event jsonb)`,
              [
                saga,
                id,
                JSON.stringify(
                  change.schedule.map((r) => ({
                    timer: r.timer,
                    token: r.token,
                    after_ms: r.afterMs,
                    topic: r.topic,
                    event: r.event,
                  })),
                ),
              ],
            );
          }
          if (outbox !== undefined) await write(tx, change.messages);
        });
      } catch (error) {
        if (error instanceof Duplicate) return { status: 'duplicate' as const };
        throw error;
      }
      return { status: 'committed' as const, dispatch: outbox === undefined ? change.messages : [] };
    },

    fireDueTimers(limit, emit) {
      return inTransaction(async (tx) => {
        // Locked rows are another poller's: skip them, so each timer fires once.
        const { rows } = await tx.query<FiredRow>(
          `update ${t.timeouts} as t set fired_at = clock_timestamp()
             from (select saga, correlation_id, timer from ${t.timeouts}
                    where fired_at is null and due_at <= clock_timestamp()
                    order by due_at limit $1 for update skip locked) as due
            where t.saga = due.saga and t.correlation_id = due.correlation_id and t.timer = due.timer
        returning t.topic, t.event, t.fired_at`,
          [limit],
        );
        if (rows.length === 0) return 0;
        const messages = rows.map((row) => ({
          topic: row.topic,
          event: { ...row.event, time: row.fired_at.toISOString() },
        }));
        // With an outbox the events commit with the marks; without one they are emitted while the
        // rows are locked, and a failed emit rolls the marks back.
        if (outbox !== undefined) await write(tx, messages);
        else await emit(messages);
        return rows.length;
      });
    },
  };
}
