import type { SwitchyardEvent } from '@switchyard/core';
import {
  type OutgoingMessage,
  type SagaChange,
  SagaConcurrencyError,
  type SagaRecord,
  type SagaStore,
} from '@switchyard/saga';
import { checkout, requirePool, type SqlClient, type SqlPool } from '../sql.ts';
import { type SagaTables, sagaMigrator, sagaTables } from './schema.ts';

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

interface CommitRow {
  written: number;
  duplicate: boolean;
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
  const { outbox } = options;
  const pool = requirePool(options.pool, 'pgSagaStore()');
  const t = sagaTables(options.schema);
  const migrate = options.migrate === false ? async () => {} : sagaMigrator(pool, t);
  const insertStatement = commitStatement(t, 'insert');
  const updateStatement = commitStatement(t, 'update');

  const inTransaction = async <R>(work: (tx: SqlClient) => Promise<R>): Promise<R> => {
    await migrate();
    const conn = await checkout(pool);
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
      const scheduled = change.schedule.map((request) => request.timer);
      const values = [
        saga,
        id,
        change.eventId,
        JSON.stringify(change.state),
        JSON.stringify(change.timers),
        change.completed,
        change.expectedVersion,
        change.cancel,
        scheduled,
        JSON.stringify(
          change.schedule.map((r) => ({
            timer: r.timer,
            token: r.token,
            after_ms: r.afterMs,
            topic: r.topic,
            event: r.event,
          })),
        ),
      ];
      const statement = change.expectedVersion === 0 ? insertStatement : updateStatement;
      const messages = outbox === undefined ? [] : change.messages;
      const decide = (row: CommitRow | undefined) => {
        if (row?.written === 1) return 'committed' as const;
        if (row?.duplicate) return 'duplicate' as const;
        throw new SagaConcurrencyError(saga, id, change.expectedVersion);
      };
      let result: 'committed' | 'duplicate';
      if (messages.length === 0) {
        // One statement is one transaction: no BEGIN/COMMIT round trips, no connection held.
        await migrate();
        result = decide((await pool.query<CommitRow>(statement, values)).rows[0]);
      } else {
        try {
          result = await inTransaction(async (tx) => {
            const outcome = decide((await tx.query<CommitRow>(statement, values)).rows[0]);
            if (outcome === 'duplicate') throw new Duplicate();
            await write(tx, messages);
            return outcome;
          });
        } catch (error) {
          if (!(error instanceof Duplicate)) throw error;
          result = 'duplicate';
        }
      }
      if (result === 'duplicate') return { status: 'duplicate' as const };
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

/**
 * A transition's whole commit as one statement: the state (guarded by the version and by the event
 * id not being handled yet), then, only if it was written, the handled id, the timers to drop and
 * the timers to (re)arm. `written` = 0 with `duplicate` false is a version conflict.
 *
 * $1 saga, $2 correlation id, $3 event id, $4 state, $5 armed timers, $6 completed,
 * $7 expected version, $8 cancelled timer names, $9 (re)armed timer names, $10 timers to arm (json).
 */
function commitStatement(t: SagaTables, kind: 'insert' | 'update'): string {
  const notHandled = `not exists (select 1 from ${t.handled} where saga = $1 and correlation_id = $2 and event_id = $3)`;
  const state =
    kind === 'insert'
      ? `insert into ${t.sagas} (saga, correlation_id, state, version, timers, completed_at)
         select $1, $2, $4, 1, $5, case when $6::boolean then now() end
          where $7::integer = 0 and ${notHandled}
         on conflict do nothing returning 1`
      : `update ${t.sagas}
            set state = $4, version = version + 1, timers = $5, updated_at = now(),
                completed_at = case when $6::boolean then now() end
          where saga = $1 and correlation_id = $2 and version = $7::integer and ${notHandled}
         returning 1`;
  return `with written as (${state}),
    mark as (
      insert into ${t.handled} (saga, correlation_id, event_id)
      select $1, $2, $3 from written where not $6::boolean on conflict do nothing),
    -- A completed instance ignores later events: its ids are no longer needed.
    forget as (
      delete from ${t.handled}
       where $6::boolean and saga = $1 and correlation_id = $2 and exists (select 1 from written)),
    -- Fired rows go too: their token lives on in the state row until the timeout is handled.
    disarm as (
      delete from ${t.timeouts}
       where saga = $1 and correlation_id = $2 and exists (select 1 from written)
         and ($6::boolean or timer = any($8::text[]) or fired_at is not null)
         and not timer = any($9::text[])),
    arm as (
      insert into ${t.timeouts} (saga, correlation_id, timer, token, due_at, topic, event)
      select $1, $2, r.timer, r.token, now() + r.after_ms * interval '1 millisecond', r.topic, r.event
        from jsonb_to_recordset($10::jsonb) as r(timer text, token text, after_ms float8, topic text, event jsonb)
       where exists (select 1 from written)
      on conflict (saga, correlation_id, timer) do update
        set token = excluded.token, due_at = excluded.due_at, fired_at = null,
            topic = excluded.topic, event = excluded.event)
    select (select count(*) from written)::integer as written, not ${notHandled} as duplicate`;
}
