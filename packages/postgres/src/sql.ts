/**
 * The little of a PostgreSQL client this package uses, so a user's own `pg.Pool` (or anything
 * shaped like it) fits without this package owning the connection settings.
 */
export interface SqlResult<R> {
  readonly rows: R[];
  readonly rowCount: number | null;
}

/** One connection, or a pool that runs each query on some connection. */
export interface SqlClient {
  query<R = Record<string, unknown>>(text: string, values?: readonly unknown[]): Promise<SqlResult<R>>;
}

/** A connection taken from a pool: it must be released, with an error if it is broken. */
export interface SqlConnection extends SqlClient {
  release(error?: Error | boolean): void;
}

/** A pool: `pg.Pool` fits. Transactions and advisory locks take a connection of their own. */
export interface SqlPool extends SqlClient {
  connect(): Promise<SqlConnection>;
}

/**
 * The pool argument of a factory, checked where it is given: a missing one (plain JavaScript, a
 * misspelt option) would otherwise surface as a TypeError from deep inside the first query.
 */
export function requirePool(pool: unknown, caller: string): SqlPool {
  if (
    typeof (pool as Partial<SqlPool> | undefined)?.connect !== 'function' ||
    typeof (pool as SqlPool).query !== 'function'
  )
    throw new TypeError(`${caller} needs \`pool\`: a pg.Pool (anything with connect and query)`);
  return pool as SqlPool;
}
