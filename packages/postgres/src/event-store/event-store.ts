import { EventStore, type EventStoreOptions } from '@switchyard/eventsourcing';
import { requirePool, type SqlPool } from '../sql.ts';
import { PgEventLog } from './pg-event-log.ts';

export interface PgEventStoreOptions extends EventStoreOptions {
  /** A `pg.Pool` (or alike). Tables go to its search_path's first schema. */
  readonly pool: SqlPool;
  /** Create tables and the append function if missing. Default true. */
  readonly setup?: boolean;
}

/** An event store in PostgreSQL: `eventStore({ pool, source, schemas })`. */
export async function eventStore(options: PgEventStoreOptions): Promise<EventStore> {
  const log = new PgEventLog(requirePool(options.pool, 'eventStore()'));
  if (options.setup !== false) await log.setup();
  return new EventStore(log, options);
}
