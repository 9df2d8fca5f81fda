import { checkout, type SqlPool } from './sql.ts';

/**
 * Run DDL once per process, in a transaction under an advisory lock on `lockName`, so processes
 * starting together do not race on CREATE … IF NOT EXISTS (which can fail with a duplicate
 * pg_type row when two run at once). A failed attempt is retried on the next call.
 */
export function migrator(
  pool: SqlPool,
  lockName: string,
  statements: readonly string[],
): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => {
    done ??= run(pool, lockName, statements).catch((error: unknown) => {
      done = undefined;
      throw error;
    });
    return done;
  };
}

async function run(pool: SqlPool, lockName: string, statements: readonly string[]): Promise<void> {
  const conn = await checkout(pool);
  let broken: Error | undefined;
  try {
    await conn.query('begin');
    await conn.query('select pg_advisory_xact_lock(hashtext($1))', [lockName]);
    for (const statement of statements) await conn.query(statement);
    await conn.query('commit');
  } catch (error) {
    broken = error instanceof Error ? error : new Error(String(error));
    await conn.query('rollback').catch(() => {});
    throw error;
  } finally {
    conn.release(broken);
  }
}
