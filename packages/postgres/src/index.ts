export type {
  ClaimEntry,
  ClaimResult,
  IdempotencyStore,
  TransactionalIdempotencyStore,
  TransactionResult,
} from './contract.ts';
export { eventStore, type PgEventStoreOptions } from './event-store/event-store.ts';
export { PgEventLog } from './event-store/pg-event-log.ts';
export {
  type PgIdempotencyStore,
  type PgIdempotencyStoreOptions,
  pgIdempotencyStore,
} from './idempotency/pg-store.ts';
export { type PgInbox, type PgInboxOptions, pgInbox, TransactionAbortedError } from './inbox/pg-inbox.ts';
export { NoTransactionError, pgTx } from './inbox/tx.ts';
export {
  LOG_START,
  type LogCheckpoint,
  LogReader,
  type LogReaderOptions,
  type LogRow,
} from './log-reader.ts';
export { InvalidTableNameError } from './names.ts';
export { type OutboxInput, type PgOutbox, type PgOutboxOptions, pgOutbox } from './outbox/pg-outbox.ts';
export { type OutboxRelay, type OutboxRelayOptions, type OutboxStats, outboxRelay } from './outbox/relay.ts';
export { PgProjectionStore, type PgProjectionStoreOptions } from './projection/pg-projection-store.ts';
export { type PgSagaStoreOptions, pgSagaStore, type SagaOutbox } from './saga/pg-saga-store.ts';
export { InvalidSchemaNameError } from './saga/schema.ts';
export type { SqlClient, SqlConnection, SqlPool, SqlResult } from './sql.ts';
