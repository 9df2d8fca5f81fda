import {
  assertTopicName,
  createEvent,
  type EventInput,
  type SchemaRegistry,
  type SwitchyardEvent,
  type TraceContext,
} from '@switchyard/core';
import { migrator } from '../migrate.ts';
import { requirePool, type SqlClient, type SqlPool } from '../sql.ts';
import { outboxName, outboxTable } from './schema.ts';
import { insertOutbox } from './write.ts';

export interface PgOutboxOptions {
  /** A pg.Pool or anything shaped like it; used only to create the table. */
  readonly pool: SqlPool;
  /** Schema of the table. Default: the connection's search_path. */
  readonly schema?: string;
  /** Table name. Default: `sy_outbox`. */
  readonly table?: string;
  /** CloudEvents `source` of the events this outbox builds (an input may name its own). */
  readonly source: string;
  /**
   * The bus's schema registry (`bus.schemas`): events are checked against the registered schema
   * and get their `dataversion` as bus.publish would. Without it, events are built unchecked.
   */
  readonly schemas?: SchemaRegistry;
  /** Create the table, trigger and view on first use. Default: true. */
  readonly migrate?: boolean;
  /**
   * The trace context active where publish is called, for events given without a `traceparent`
   * (the relay's send span then links to it). `activeTraceContext` from @switchyard/otel fits. Without it,
   * an event carries only the traceparent it was given. Inside handle() with a transactional inbox
   * this is not needed: the bus's instrumentation supplies the handler's context already.
   */
  readonly traceContext?: () => TraceContext | undefined;
}

/** What publish takes: what bus.publish takes, or an event built already (its id is kept). */
export type OutboxInput<T = unknown> = EventInput<T> | SwitchyardEvent<T>;

export interface PgOutbox {
  /** The table, quoted and qualified as the statements use it. */
  readonly table: string;
  /**
   * Build the event now (id, time, source, correlationid; causationid and traceparent as given)
   * and write it on `tx`, the caller's transaction: it is sent by the relay only if `tx` commits,
   * and every re-send carries the same id. Resolves with the event as it will be sent.
   */
  publish<T>(tx: SqlClient, topic: string, input: OutboxInput<T>): Promise<SwitchyardEvent<T>>;
  /** Several events for one topic in one statement. */
  publishBatch<T>(
    tx: SqlClient,
    topic: string,
    inputs: readonly OutboxInput<T>[],
  ): Promise<SwitchyardEvent<T>[]>;
  /** Create the table, its index, the NOTIFY trigger and the Debezium view if missing. */
  migrate(): Promise<void>;
}

/**
 * The transactional outbox: events written in the same transaction as the state they describe, so
 * a crash between the database write and the publish loses nothing and a rolled-back write sends
 * nothing. `outboxRelay` moves them to the broker.
 */
export function pgOutbox(options: PgOutboxOptions): PgOutbox {
  const { table, ddl } = outboxTable(outboxName(options));
  const pool = requirePool(options.pool, 'pgOutbox()');
  const migrate = migrator(pool, `switchyard:${table.sql}`, ddl);
  const auto = options.migrate !== false;
  const { schemas, source, traceContext } = options;

  const build = async <T>(given: OutboxInput<T>): Promise<SwitchyardEvent<T>> => {
    if (isBuilt(given)) return given;
    const active = given.traceparent === undefined ? traceContext?.() : undefined;
    const input = active === undefined ? given : { ...given, ...active };
    const version = schemas?.versionOf(input.type);
    const event = createEvent(
      version === undefined
        ? input
        : { ...input, extensions: { ...input.extensions, dataversion: String(version) } },
      source,
    );
    const checking = schemas?.check(event.type, event.data);
    if (checking !== undefined) await checking;
    return event;
  };

  const publishBatch = async <T>(
    tx: SqlClient,
    topic: string,
    inputs: readonly OutboxInput<T>[],
  ): Promise<SwitchyardEvent<T>[]> => {
    // A name the broker would refuse must fail the write, not stall the relay later.
    assertTopicName(topic);
    const events: SwitchyardEvent<T>[] = [];
    for (const input of inputs) events.push(await build(input));
    if (auto) await migrate();
    await insertOutbox(tx, table.sql, topic, events);
    return events;
  };

  return {
    table: table.sql,
    async publish(tx, topic, input) {
      const [event] = await publishBatch(tx, topic, [input]);
      return event!;
    },
    publishBatch,
    migrate,
  };
}

function isBuilt<T>(input: OutboxInput<T>): input is SwitchyardEvent<T> {
  return (input as SwitchyardEvent<T>).specversion !== undefined;
}
