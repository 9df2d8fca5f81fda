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

/**
 * A connection of `pool`, safe to hold across awaits. pg reports the loss of a checked-out
 * connection (a PostgreSQL restart or failover, a backend terminated) as an 'error' event when no
 * query is running on it, as while a handler awaits something else; with no listener Node ends the
 * process. The listener added here ignores the event: the loss reaches the next query on the
 * connection, whose caller releases it with that error, so the pool drops it. A healthy release
 * takes the listener off again (the pool listens to its idle clients); a broken one keeps it, so
 * an error while the connection closes is ignored too.
 */
export async function checkout(pool: SqlPool): Promise<SqlConnection> {
  const conn = await pool.connect();
  const events = conn as Partial<Events>;
  if (typeof events.on !== 'function' || typeof events.removeListener !== 'function') return conn;
  ignoreLoss(conn);
  const release = conn.release.bind(conn);
  // pg-pool gives each checkout a release function of its own, so this one goes with it.
  conn.release = (error?: Error | boolean) => {
    if (!error) events.removeListener?.('error', ignore);
    release(error);
  };
  return conn;
}

/**
 * Give a pg client checkout()'s ignoring 'error' listener, once. Also a pool's 'connect' listener
 * (the relay's own pool): pg-pool takes its listener off a new client and hands it out in the same
 * read as the connection's ReadyForQuery, so a FATAL parsed right after it (PostgreSQL shutting
 * down as the connection opens) reaches the client before the caller can listen; checkout() then
 * finds the listener there and takes it off on a healthy release like its own.
 */
export function ignoreLoss(client: unknown): void {
  const events = client as Partial<Events>;
  if (typeof events.on !== 'function' || events.listeners?.('error').includes(ignore)) return;
  events.on('error', ignore);
}

interface Events {
  on(event: string, listener: (...args: never[]) => void): unknown;
  removeListener(event: string, listener: (...args: never[]) => void): unknown;
  listeners(event: string): unknown[];
}

function ignore(): void {}
