// The flow's state in PostgreSQL: the order streams (event store), the outbox and its relay, the
// checkout's instances and timers (saga store, whose commands go through the same outbox), and the
// order-summary read model with its checkpoint. Tables go to the pools' search_path schema.
import type { Bus, SchemaRegistry } from '@switchyard/core';
import {
  eventStore,
  outboxRelay,
  PgProjectionStore,
  pgOutbox,
  pgSagaStore,
  type SqlConnection,
} from '@switchyard/postgres';
import type { Pool } from 'pg';
import { pgOrderSummaryTable } from './pg-order-summary.ts';
import type { Relay, Storage } from './storage.ts';

export interface PgStorageOptions {
  /** For the services: appends, saga commits, timers, the read model. */
  readonly pool: Pool;
  /** Another pool on the same schema, for the relay: it holds a connection per shard it owns. */
  readonly newPool: (max: number) => Pool;
  readonly schemas: SchemaRegistry;
}

/** Shards of the outbox relay: keys (order ids) spread over them, each in order. */
const RELAY_SHARDS = 4;

export async function pgStorage(options: PgStorageOptions): Promise<Storage> {
  const { pool } = options;
  const events = await eventStore({ pool, source: 'orders', schemas: options.schemas });
  const outbox = pgOutbox({ pool, source: 'orders' });
  await outbox.migrate();
  const summaries = pgOrderSummaryTable(pool);
  await summaries.setup();

  return {
    kind: 'postgres',
    events,
    // The checkout's commands and timeout events are written to the outbox with its state.
    sagas: pgSagaStore({ pool, outbox }),
    summaries,
    projections: new PgProjectionStore({ pool, lockPollMs: 200 }),
    async transaction(work) {
      const conn: SqlConnection = await pool.connect();
      let broken: Error | undefined;
      try {
        await conn.query('begin');
        const result = await work({
          append: (streamId, inputs, expectedVersion) =>
            events.append(streamId, inputs, { expectedVersion, client: conn }),
          publish: async (topic, event) => {
            await outbox.publish(conn, topic, event);
          },
        });
        await conn.query('commit');
        return result;
      } catch (error) {
        await conn.query('rollback').catch((e: Error) => {
          broken = e;
        });
        throw error;
      } finally {
        conn.release(broken);
      }
    },
    relay(bus: Bus): Relay {
      return outboxRelay({
        pool: options.newPool(RELAY_SHARDS + 2),
        bus,
        shards: RELAY_SHARDS,
        batchSize: 100,
      });
    },
  };
}
