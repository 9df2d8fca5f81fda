export type { SqlClient, SqlConnection, SqlPool, SqlResult } from './sql.ts';
