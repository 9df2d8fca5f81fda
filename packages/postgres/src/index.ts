export { type PgSagaStoreOptions, pgSagaStore, type SagaOutbox } from './saga/pg-saga-store.ts';
export { InvalidSchemaNameError } from './saga/schema.ts';
export type { SqlClient, SqlConnection, SqlPool, SqlResult } from './sql.ts';
