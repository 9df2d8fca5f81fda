export type {
  ClaimEntry,
  ClaimResult,
  IdempotencyStore,
  TransactionalIdempotencyStore,
  TransactionResult,
} from './contract.ts';
export {
  type PgIdempotencyStore,
  type PgIdempotencyStoreOptions,
  pgIdempotencyStore,
} from './idempotency/pg-store.ts';
export { type PgInbox, type PgInboxOptions, pgInbox, TransactionAbortedError } from './inbox/pg-inbox.ts';
export { NoTransactionError, pgTx } from './inbox/tx.ts';
export { InvalidTableNameError } from './names.ts';
export type { SqlClient, SqlConnection, SqlPool, SqlResult } from './sql.ts';
