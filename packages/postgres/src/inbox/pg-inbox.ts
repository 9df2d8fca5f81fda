import type { SwitchyardEvent } from '@switchyard/core';
import type { TransactionalIdempotencyStore } from '../contract.ts';
import {
  type PgIdempotencyStore,
  type PgIdempotencyStoreOptions,
  pgIdempotencyStore,
} from '../idempotency/pg-store.ts';
import { idempotencyTable } from '../idempotency/schema.ts';
import { type PgOutbox, pgOutbox } from '../outbox/pg-outbox.ts';
import { checkout, type SqlClient, type SqlConnection, type SqlPool } from '../sql.ts';

export interface PgInboxOptions extends PgIdempotencyStoreOptions {
  /**
   * The outbox ctx.publish writes to inside the transaction: give the same `pgOutbox` the relay
   * reads. Default: `pgOutbox({ pool, table: outboxTable })`.
   */
  readonly outbox?: PgOutbox;
  /** Outbox table of the default outbox (ignored with `outbox`). Default: `sy_outbox`. */
  readonly outboxTable?: string;
}

export interface PgInbox extends PgIdempotencyStore, TransactionalIdempotencyStore<SqlClient> {
  readonly ttlMs: number;
  publishInTransaction(tx: SqlClient, topic: string, event: SwitchyardEvent): Promise<void>;
}

/**
 * The transaction was rolled back because the attempt's signal aborted without an Error as its
 * reason (handle() always gives one: HandlerTimeoutError, ClosedError, ... which the attempt then
 * fails with instead).
 */
export class TransactionAbortedError extends Error {
  override name = 'TransactionAbortedError';
}

/**
 * What an aborted attempt fails with: why it was aborted (handle()'s HandlerTimeoutError, a
 * ClosedError at shutdown, a lost lease), as the same attempt without `transactional` fails, rather
 * than whatever its queries ran into once the connection ended. TransactionAbortedError when the
 * signal gave no Error.
 */
function abortError(signal: AbortSignal | undefined, broken: Error | undefined): Error {
  const reason: unknown = signal?.reason;
  if (reason instanceof Error) return reason;
  return broken ?? new TransactionAbortedError('the attempt was aborted; its transaction is rolled back');
}

/**
 * The transactional inbox: the PostgreSQL idempotency store, plus `transaction()` for
 * `handle(h, { idempotency: { store: pgInbox(pool), transactional: true } })`. Each attempt is
 *   BEGIN; insert the done mark (a concurrent attempt on the same id blocks on this uncommitted
 *   row, then sees it done); the handler's writes on ctx.tx; COMMIT
 * so the writes and the mark commit together: an exactly-once effect for work done in PostgreSQL.
 * The row lock is the lease: if this process dies, PostgreSQL rolls back and the id is free again.
 */
export function pgInbox(pool: SqlPool, options: PgInboxOptions = {}): PgInbox {
  const store = pgIdempotencyStore(pool, options);
  const { table } = idempotencyTable(options.table ?? 'sy_idempotency');
  // Events arrive built (handle() builds them with the bus): the outbox's source is never used.
  const outbox =
    options.outbox ??
    pgOutbox({
      pool,
      table: options.outboxTable ?? 'sy_outbox',
      source: 'switchyard',
      migrate: options.autoMigrate !== false,
    });
  const markSql = `
    insert into ${table.sql} as t (key, state, owner, expires_at)
    values ($1, 'done', null, now() + make_interval(secs => $2::double precision / 1000))
    on conflict (key) do update set state = 'done', owner = null, expires_at = excluded.expires_at
      where t.state <> 'done' or t.expires_at <= now()
    returning 1`;

  return {
    ...store,
    async migrate() {
      await store.migrate();
      await outbox.migrate();
    },
    async transaction(key, ttlMs, work, opts = {}) {
      if (options.autoMigrate !== false) await store.migrate();
      const signal = opts.signal;
      signal?.throwIfAborted();
      const conn: SqlConnection = await checkout(pool);
      let broken: Error | undefined;
      let discard = false;
      // An abort while the handler runs ends the connection: the server rolls back, and the
      // handler's pending queries fail instead of committing after the attempt was given up.
      // A query still running on the server would go on (a backend notices its client is gone only
      // when it next writes to it) and keep the transaction's locks, the mark's among them, so the
      // redelivery would wait for it: its backend is terminated too. Sent before the connection
      // ends, while the pid is still this connection's (pg clients expose it as processID).
      const onAbort = () => {
        broken ??= new TransactionAbortedError('the attempt was aborted; its transaction is rolled back');
        const pid = (conn as { processID?: unknown }).processID;
        if (typeof pid === 'number')
          pool.query('select pg_terminate_backend($1)', [pid]).catch(() => {
            // Already gone, or PostgreSQL unreachable: the connection's end below still rolls back.
          });
        conn.release(broken);
      };
      try {
        await conn.query('begin');
        const marked = await conn.query(markSql, [key, ttlMs]);
        if ((marked.rowCount ?? 0) === 0) {
          await conn.query('rollback');
          return { status: 'duplicate' as const };
        }
        signal?.addEventListener('abort', onAbort, { once: true });
        const value = await work(conn);
        if (broken || signal?.aborted) throw abortError(signal, broken);
        await conn.query('commit');
        return { status: 'done' as const, value };
      } catch (error) {
        // A connection whose rollback fails is not put back in the pool.
        if (!broken)
          await conn.query('rollback').catch(() => {
            discard = true;
          });
        throw broken ? abortError(signal, broken) : error;
      } finally {
        signal?.removeEventListener('abort', onAbort);
        if (!broken) conn.release(discard);
      }
    },
    async publishInTransaction(tx, topic, event) {
      await outbox.publish(tx, topic, event);
    },
  };
}
