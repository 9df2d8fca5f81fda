import { timerMs, wholeNumber } from '@switchyard/core/transport';
import type { ClaimResult, IdempotencyStore } from '../contract.ts';
import { migrator } from '../migrate.ts';
import { requirePool, type SqlPool } from '../sql.ts';
import { idempotencyTable } from './schema.ts';

export interface PgIdempotencyStoreOptions {
  /** Table for claims and done marks, optionally `schema.table`. Default: `sy_idempotency`. */
  readonly table?: string;
  /** How long a handled id is remembered when handle() names no ttlMs. Default: 7 days. */
  readonly ttlMs?: number;
  /**
   * How often this process deletes expired rows (at most `cleanupBatch` per run). 0 turns the
   * cleanup off (run your own `DELETE … WHERE expires_at < now()`). Default: 60 000 ms.
   */
  readonly cleanupIntervalMs?: number;
  /** Most rows one cleanup run deletes, so it never holds locks long. Default: 10 000. */
  readonly cleanupBatch?: number;
  /** Create the table on first use (default true). false: call `migrate()` yourself, or own the DDL. */
  readonly autoMigrate?: boolean;
}

export interface PgIdempotencyStore extends IdempotencyStore {
  readonly ttlMs: number;
  /** Create the table and index if missing (idempotent, safe from several processes at once). */
  migrate(): Promise<void>;
  /** Delete up to `cleanupBatch` expired rows now; answers how many. */
  cleanup(): Promise<number>;
  /** Stop the periodic cleanup. The pool is the caller's and stays open. */
  close(): Promise<void>;
}

/**
 * Idempotency in PostgreSQL: a claim is a row with an owner token and a lease; a done mark is the
 * same row, kept for ttlMs. Times come from the database clock, so members' clocks may disagree.
 * Every call is one statement; claimMany/completeMany take a whole window in one round trip.
 */
export function pgIdempotencyStore(
  pool: SqlPool,
  options: PgIdempotencyStoreOptions = {},
): PgIdempotencyStore {
  requirePool(pool, 'pgIdempotencyStore()');
  const { table, ddl } = idempotencyTable(options.table ?? 'sy_idempotency');
  const t = table.sql;
  const ttlMs = options.ttlMs ?? 7 * 86_400_000;
  const migrate = migrator(pool, `switchyard:${t}`, ddl);
  const ready = options.autoMigrate === false ? () => Promise.resolve() : migrate;

  const claimSql = `
    with input as (
      select k.key, k.owner, k.ord from unnest($1::text[], $2::text[]) with ordinality as k(key, owner, ord)
    ), claimed as (
      insert into ${t} as t (key, state, owner, expires_at)
      select key, 'pending', owner, now() + make_interval(secs => $3::double precision / 1000) from input
      on conflict (key) do update set state = 'pending', owner = excluded.owner, expires_at = excluded.expires_at
        where t.expires_at <= now()
      returning t.key
    )
    select case when c.key is not null then 'claimed' when t.state = 'done' then 'done' else 'busy' end as result
    from input i left join claimed c on c.key = i.key left join ${t} t on t.key = i.key
    order by i.ord`;

  const claimMany = async (
    claims: readonly { readonly key: string; readonly token: string }[],
    leaseMs: number,
  ): Promise<ClaimResult[]> => {
    if (claims.length === 0) return [];
    // ON CONFLICT cannot touch a row twice in one statement: send each key once; a repeat in the
    // same window is another claimer of a key this window already claims, so it is busy.
    const first = new Map<string, number>();
    const keys: string[] = [];
    const owners: string[] = [];
    for (const [i, claim] of claims.entries()) {
      if (first.has(claim.key)) continue;
      first.set(claim.key, i);
      keys.push(claim.key);
      owners.push(claim.token);
    }
    await ready();
    const { rows } = await pool.query<{ result: ClaimResult }>(claimSql, [keys, owners, leaseMs]);
    const answers = new Map(keys.map((key, i) => [key, rows[i]!.result]));
    return claims.map((claim, i) =>
      first.get(claim.key) === i
        ? answers.get(claim.key)!
        : answers.get(claim.key) === 'done'
          ? 'done'
          : 'busy',
    );
  };

  const completeSql = `
    update ${t} as t set state = 'done', owner = null, expires_at = now() + make_interval(secs => $3::double precision / 1000)
    from unnest($1::text[], $2::text[]) as u(key, owner)
    where t.key = u.key and t.owner = u.owner and t.state = 'pending'
    returning t.key`;

  const completeMany = async (
    entries: readonly { readonly key: string; readonly token: string }[],
    ttl: number,
  ): Promise<boolean[]> => {
    if (entries.length === 0) return [];
    await ready();
    const { rows } = await pool.query<{ key: string }>(completeSql, [
      entries.map((e) => e.key),
      entries.map((e) => e.token),
      ttl,
    ]);
    const completed = new Set(rows.map((row) => row.key));
    return entries.map((e) => completed.has(e.key));
  };

  const cleanupBatch = wholeNumber('cleanupBatch', options.cleanupBatch ?? 10_000);
  const cleanup = async (): Promise<number> => {
    await ready();
    const { rowCount } = await pool.query(
      `delete from ${t} where key in (select key from ${t} where expires_at < now() limit $1)`,
      [cleanupBatch],
    );
    return rowCount ?? 0;
  };
  // Infinity or more than 2^31 - 1 ms (meant as 'rarely') ran the DELETE every millisecond.
  const interval = timerMs('cleanupIntervalMs', options.cleanupIntervalMs ?? 60_000, 0);
  const timer =
    interval > 0
      ? setInterval(() => {
          // A failed cleanup (database briefly away) is retried by the next tick.
          cleanup().catch(() => {});
        }, interval)
      : undefined;
  timer?.unref();

  return {
    ttlMs,
    migrate,
    cleanup,
    async close() {
      if (timer) clearInterval(timer);
    },
    claimMany,
    async claim(key, token, leaseMs) {
      return (await claimMany([{ key, token }], leaseMs))[0]!;
    },
    completeMany,
    async complete(key, token, ttl) {
      return (await completeMany([{ key, token }], ttl))[0]!;
    },
    async renew(key, token, leaseMs) {
      await ready();
      const { rowCount } = await pool.query(
        `update ${t} set expires_at = now() + make_interval(secs => $3::double precision / 1000)
         where key = $1 and owner = $2 and state = 'pending'`,
        [key, token, leaseMs],
      );
      return (rowCount ?? 0) > 0;
    },
    async release(key, token) {
      await ready();
      await pool.query(`delete from ${t} where key = $1 and owner = $2 and state = 'pending'`, [key, token]);
    },
  };
}
