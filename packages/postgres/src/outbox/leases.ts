import { checkout, type SqlConnection, type SqlPool } from '../sql.ts';

/** The second advisory-lock key every live relay holds shared: counting holders counts relays. */
const MEMBERS = 1_000_000;

/** A pg client's event side, when the pool hands out pg clients (pg.Pool does). */
interface Evented {
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'notification', listener: (message: { channel: string; payload?: string }) => void): unknown;
  removeListener(event: string, listener: (...args: never[]) => void): unknown;
}

function evented(conn: SqlConnection): Evented | undefined {
  const candidate = conn as unknown as Partial<Evented>;
  return typeof candidate.on === 'function' ? (candidate as Evented) : undefined;
}

/**
 * A connection held for a long time (a shard's lease, the relay's control connection). A held
 * pg client whose socket dies emits 'error' with no query to reject: without a listener that
 * would crash the process, so one is attached and the loss is recorded for the holder to see.
 */
export class HeldConnection {
  readonly conn: SqlConnection;
  #lost: Error | undefined;
  #released = false;
  #onLost: (() => void) | undefined;
  readonly #onError = (error: Error) => this.lose(error);

  constructor(conn: SqlConnection) {
    this.conn = conn;
    evented(conn)?.on('error', this.#onError);
  }

  get lost(): Error | undefined {
    return this.#lost;
  }

  /** Called once when the connection is found broken (its 'error' event or a failed query). */
  onLost(listener: () => void): void {
    this.#onLost = listener;
  }

  lose(error: Error): void {
    if (this.#lost) return;
    this.#lost = error;
    this.#onLost?.();
    this.release(error);
  }

  /** Give the connection back (healthy) or end it (with an error, or `destroy`). */
  release(error?: Error | boolean): void {
    if (this.#released) return;
    this.#released = true;
    // A healthy connection goes back to the pool, which listens to it while idle; one being ended
    // keeps this listener, so an error while it closes does not crash the process.
    if (!error) evented(this.conn)?.removeListener('error', this.#onError);
    this.conn.release(error);
  }

  /** LISTEN on this connection; `wake` gets each notification's payload. False if the pool's clients cannot. */
  async listen(channel: string, wake: (payload: string) => void): Promise<boolean> {
    const events = evented(this.conn);
    if (!events) return false;
    events.on('notification', (message) => {
      if (message.channel === channel) wake(message.payload ?? '');
    });
    await this.conn.query(`listen "${channel}"`);
    return true;
  }
}

/**
 * Shard ownership by PostgreSQL advisory locks: shard `s` of the table with key `k` is
 * `pg_try_advisory_lock(k, s)`, taken on a connection the owner keeps (the lease: if the
 * connection or the process dies, PostgreSQL releases the lock and another relay takes the shard).
 * Each relay also holds `(k, MEMBERS)` shared, so the holders counted in pg_locks are the live
 * relays, and each aims for an even share.
 */
export class Leases {
  readonly #pool: SqlPool;
  readonly #key: number;

  constructor(pool: SqlPool, key: number) {
    this.#pool = pool;
    this.#key = key;
  }

  /** Count this relay as a live member, on its control connection. */
  async join(control: HeldConnection): Promise<void> {
    await control.conn.query('select pg_advisory_lock_shared($1, $2)', [this.#key, MEMBERS]);
  }

  /** Live relays on this table (those holding the member lock). */
  async members(control: HeldConnection): Promise<number> {
    const { rows } = await control.conn.query<{ n: string | number }>(
      `select count(*) as n from pg_locks
        where locktype = 'advisory' and granted and objsubid = 2
          and database = (select oid from pg_database where datname = current_database())
          and classid = $1::int4::oid and objid = $2::int4::oid`,
      [this.#key, MEMBERS],
    );
    return Math.max(1, Number(rows[0]?.n ?? 1));
  }

  /**
   * Try to take up to `wanted` of `candidates` (in that order), each on a fresh connection that
   * becomes its lease; `take` is called with each as soon as it is won.
   */
  async acquire(
    candidates: readonly number[],
    wanted: number,
    take: (shard: number, lease: HeldConnection) => void,
  ): Promise<void> {
    if (wanted <= 0 || candidates.length === 0) return;
    let spare: HeldConnection | undefined;
    let won = 0;
    try {
      for (const shard of candidates) {
        spare ??= new HeldConnection(await checkout(this.#pool));
        const { rows } = await spare.conn.query<{ ok: boolean }>(
          'select pg_try_advisory_lock($1, $2) as ok',
          [this.#key, shard],
        );
        if (rows[0]?.ok) {
          take(shard, spare);
          spare = undefined;
          if (++won >= wanted) break;
        }
      }
    } catch (error) {
      spare?.lose(error as Error);
      spare = undefined;
      throw error;
    } finally {
      spare?.release();
    }
  }

  /** Give a shard back: unlock, then return the connection to the pool. */
  async release(shard: number, lease: HeldConnection): Promise<void> {
    if (lease.lost) return;
    try {
      await lease.conn.query('select pg_advisory_unlock($1, $2)', [this.#key, shard]);
      lease.release();
    } catch (error) {
      lease.lose(error as Error);
    }
  }
}
