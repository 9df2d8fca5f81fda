import { SwitchyardError } from '@switchyard/core';
import { checkout, type SqlPool } from '../sql.ts';

/** A schema option that is not a plain SQL identifier. */
export class InvalidSchemaNameError extends SwitchyardError {
  override name = 'InvalidSchemaNameError';
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export interface SagaTables {
  /** One row per instance: state, version, armed timers, completion. */
  readonly sagas: string;
  /** Ids of the events each live instance handled (the duplicate guard). */
  readonly handled: string;
  /** Durable timers, polled by due time. */
  readonly timeouts: string;
  readonly ddl: readonly string[];
}

/**
 * Table names, in `schema` when given (else wherever search_path puts them). Names are spliced
 * into statements (they cannot be bind parameters), so only plain identifiers are accepted.
 */
export function sagaTables(schema?: string): SagaTables {
  if (schema !== undefined && !IDENTIFIER.test(schema)) {
    throw new InvalidSchemaNameError(`'${schema.slice(0, 70)}' is not a schema name: letters, digits and _`);
  }
  const q = (name: string) => (schema === undefined ? `"${name}"` : `"${schema}"."${name}"`);
  const sagas = q('sy_sagas');
  const handled = q('sy_saga_handled');
  const timeouts = q('sy_saga_timeouts');
  return {
    sagas,
    handled,
    timeouts,
    ddl: [
      `create table if not exists ${sagas} (
        saga text not null,
        correlation_id text not null,
        state jsonb not null,
        version integer not null,
        timers jsonb not null default '{}',
        completed_at timestamptz,
        updated_at timestamptz not null default now(),
        primary key (saga, correlation_id))`,
      `create table if not exists ${handled} (
        saga text not null,
        correlation_id text not null,
        event_id text not null,
        primary key (saga, correlation_id, event_id))`,
      `create table if not exists ${timeouts} (
        saga text not null,
        correlation_id text not null,
        timer text not null,
        token text not null,
        due_at timestamptz not null,
        fired_at timestamptz,
        topic text not null,
        event jsonb not null,
        primary key (saga, correlation_id, timer))`,
      // The poller's scan: only armed timers, by due time.
      `create index if not exists "sy_saga_timeouts_due" on ${timeouts} (due_at) where fired_at is null`,
    ],
  };
}

/**
 * Create the tables once per store, under an advisory lock so processes starting together do not
 * race on CREATE … IF NOT EXISTS. A failed attempt is retried on the next call.
 */
export function sagaMigrator(pool: SqlPool, tables: SagaTables): () => Promise<void> {
  let done: Promise<void> | undefined;
  const run = async () => {
    const conn = await checkout(pool);
    let broken: Error | undefined;
    try {
      await conn.query('begin');
      await conn.query(`select pg_advisory_xact_lock(hashtext('switchyard.saga.migrate'))`);
      for (const statement of tables.ddl) await conn.query(statement);
      await conn.query('commit');
    } catch (error) {
      broken = error instanceof Error ? error : new Error(String(error));
      await conn.query('rollback').catch(() => {});
      throw error;
    } finally {
      conn.release(broken);
    }
  };
  return () => {
    done ??= run().catch((error: unknown) => {
      done = undefined;
      throw error;
    });
    return done;
  };
}
