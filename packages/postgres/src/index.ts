export { eventStore, type PgEventStoreOptions } from './event-store/event-store.ts';
export { PgEventLog } from './event-store/pg-event-log.ts';
export {
  LOG_START,
  type LogCheckpoint,
  LogReader,
  type LogReaderOptions,
  type LogRow,
} from './log-reader.ts';
export { PgProjectionStore, type PgProjectionStoreOptions } from './projection/pg-projection-store.ts';
export type { SqlClient, SqlConnection, SqlPool, SqlResult } from './sql.ts';
