import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';

export interface PgTestSchema {
  /** `sy_test_<random>`: every connection of `pool` has it first on its search_path. */
  readonly schema: string;
  readonly pool: Pool;
  /** A fresh pool on the same schema (a second "process" in a test). Closed by drop(). */
  newPool(max?: number): Pool;
  /** DROP SCHEMA … CASCADE and close the pools. */
  drop(): Promise<void>;
}

/**
 * A per-run PostgreSQL schema, so tests never see each other's tables and leave none behind.
 * Tables created without a schema name land in it (search_path), like a user's own schema would.
 */
export async function pgTestSchema(url: string, options: { max?: number } = {}): Promise<PgTestSchema> {
  const { default: pg } = await import('pg');
  const schema = `sy_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`create schema ${schema}`);
  } finally {
    await admin.end();
  }
  const pools: Pool[] = [];
  const newPool = (max = options.max ?? 10) => {
    const pool = new pg.Pool({ connectionString: url, max, options: `-c search_path=${schema}` });
    // A connection dropped while idle (a restart in a test) must not crash the test worker.
    pool.on('error', () => {});
    pools.push(pool);
    return pool;
  };
  const pool = newPool();
  return {
    schema,
    pool,
    newPool,
    drop: async () => {
      await Promise.all(pools.splice(0).map((p) => p.end().catch(() => {})));
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`drop schema if exists ${schema} cascade`);
      } finally {
        await client.end();
      }
    },
  };
}
