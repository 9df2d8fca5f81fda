import {
  type Logger,
  leveledLogger,
  MessageTooLargeError,
  PublishBatchError,
  type WireMessage,
} from '@switchyard/core';
import { MAX_TIMER_MS } from '@switchyard/core/transport';
import { LOG_START, type LogCheckpoint, LogReader } from '../log-reader.ts';
import { migrator } from '../migrate.ts';
import { checkout, ignoreLoss, requirePool, type SqlPool } from '../sql.ts';
import { HeldConnection, Leases } from './leases.ts';
import { OUTBOX_SLOTS, outboxName, outboxTable } from './schema.ts';

export interface OutboxRelayOptions {
  /**
   * A pg.Pool for the relay alone: it keeps one connection per shard it owns plus one (LISTEN and
   * membership), so give it `max` ≥ shards + 2 (a smaller pg.Pool is refused: RangeError). Its clients must be pg clients for NOTIFY wake-ups
   * (anything else works by polling).
   */
  readonly pool: SqlPool;
  /** Where events go: a Bus (or anything with its `publishWire`). Close the relay before the bus. */
  readonly bus: { publishWire(topic: string, messages: readonly WireMessage[]): Promise<void> };
  /** Schema and table of the outbox, as given to pgOutbox. Default: search_path, `sy_outbox`. */
  readonly schema?: string;
  readonly table?: string;
  /** Shards (units of ownership and of parallel publishing). The same on every relay of a table. Default 16. */
  readonly shards?: number;
  /** Rows a shard reads, publishes and deletes at a time. Default 500. */
  readonly batchSize?: number;
  /** An idle shard looks again after this long even without a NOTIFY. Default 500 ms. */
  readonly pollMs?: number;
  /** How often the relay counts live relays and takes free shards up to its share. Default 1 000 ms. */
  readonly rebalanceMs?: number;
  /** Wake on the table's NOTIFY (sent by its insert trigger at commit). Default true. */
  readonly notify?: boolean;
  /** After a failed publish, a shard waits this long (doubling up to 5 s) before it tries again. Default 100 ms. */
  readonly retryMs?: number;
  /** Create the table if missing. Default true. */
  readonly migrate?: boolean;
  /** The relay's log lines (lost shards, failed publishes). Default: warn and above on stderr. */
  readonly logger?: Logger;
}

export interface OutboxStats {
  /** Rows in the outbox not yet confirmed by the broker (all shards, all relays). */
  readonly backlog: number;
  /** Age of the oldest of them (from its transaction's start), 0 when empty. */
  readonly oldestAgeMs: number;
  /** Shards this relay owns now. */
  readonly shards: readonly number[];
  /** Live relays on this table (this one included). */
  readonly relays: number;
  /** Events this relay had confirmed by the broker and deleted, since it started. */
  readonly relayed: number;
}

export interface OutboxRelay {
  /**
   * Stop: each shard finishes the batch it is publishing (up to `drainTimeoutMs`, default 10 s;
   * after that its connection is cut, and what was not deleted is sent again by the next owner),
   * then its lock is released. The pool and the bus stay open. `Infinity` waits for every batch; NaN
   * or a negative rejects with a RangeError and the relay keeps running.
   */
  close(options?: { drainTimeoutMs?: number }): Promise<void>;
  stats(): Promise<OutboxStats>;
  /** Shards this relay owns now. */
  readonly shards: readonly number[];
}

interface Row {
  topic: string;
  key: string | null;
  headers: Record<string, string>;
  body: Buffer;
}

/** A count or a duration option: 0 or less would stall the relay (LIMIT 0) or spin it. */
function positive(name: string, value: number, integer = false): number {
  // A timer runs anything over 2^31 - 1 ms after 1 ms: a poll meant to be rare would spin.
  if (!(value > 0) || !(value <= MAX_TIMER_MS) || (integer && !Number.isInteger(value)))
    throw new RangeError(
      `${name} must be a positive ${integer ? 'integer' : 'number'} up to ${MAX_TIMER_MS}, not ${value}`,
    );
  return value;
}

/** A pg.Pool's event side (anything else shaped like a pool may have none). */
interface PoolEvents {
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'connect', listener: (client: unknown) => void): unknown;
  removeListener(event: 'error', listener: (error: Error) => void): unknown;
  removeListener(event: 'connect', listener: (client: unknown) => void): unknown;
}

const MAX_RETRY_MS = 5_000;

/** publish(): nothing failed that may pass later, but not everything was sent: read again now. */
const AGAIN = Symbol('again');

/** An outbox row the broker will never take, and why. */
interface Refused {
  readonly position: number;
  readonly reason: string;
  readonly id: string;
  readonly topic: string;
}

/**
 * Moves outbox rows to the broker, at least once, per-key order kept with any number of relays:
 * a key maps to one slot, a slot to one shard, a shard has one owner at a time (an advisory lock
 * on a connection the owner keeps), and an owner reads its shard gap-safe (LogReader: rows older
 * than every running transaction, in commit order), publishes them grouped by topic, and deletes
 * only what the broker confirmed. After a failure it starts again from the oldest row left, so a
 * key's later events never overtake an earlier one that failed.
 */
export function outboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { bus } = options;
  if (typeof bus?.publishWire !== 'function')
    throw new TypeError('outboxRelay() needs `bus`: a Bus from connect() (anything with publishWire)');
  const pool = requirePool(options.pool, 'outboxRelay()');
  const shardCount = options.shards ?? 16;
  if (!Number.isInteger(shardCount) || shardCount < 1 || shardCount > OUTBOX_SLOTS)
    throw new RangeError(`shards must be an integer from 1 to ${OUTBOX_SLOTS}, not ${shardCount}`);
  // pg.Pool's `max` (10 unless given) is the most connections the relay can hold. Below shards + 2
  // the shards past it wait for a connection forever: their events are never sent, and nothing
  // says why. Refused up front instead (a pool that does not tell its size is trusted).
  const max = (pool as { options?: { max?: unknown } }).options?.max;
  if (typeof max === 'number' && max < shardCount + 2)
    throw new RangeError(
      `the relay's pool allows ${max} connections; ${shardCount} shards need at least ${shardCount + 2} (one per shard, one for LISTEN and membership, one for stats and migrations): raise the pool's max or lower shards`,
    );
  const batchSize = positive('batchSize', options.batchSize ?? 500, true);
  const pollMs = positive('pollMs', options.pollMs ?? 500);
  const rebalanceMs = positive('rebalanceMs', options.rebalanceMs ?? 1_000);
  const retryMs = positive('retryMs', options.retryMs ?? 100);
  const log = options.logger ?? leveledLogger();
  const { table, ddl, dead: deadTable } = outboxTable(outboxName(options));
  const migrate = options.migrate === false ? async () => {} : migrator(pool, `switchyard:${table.sql}`, ddl);
  const warn = (message: string) => log({ level: 'warn', namespace: 'outbox.relay', message });
  // The pool is the relay's own. pg.Pool emits 'error' for a connection that dies while idle in it
  // (every one does in a PostgreSQL restart), and with no listener that crashes the process the
  // relay is meant to outlive a restart in. The held connections report the loss and reconnect,
  // so an idle one's death is only noted. Removed by close(): the pool is left as it was found.
  const poolEvents = pool as unknown as Partial<PoolEvents>;
  const onIdleError = (error: Error) =>
    log({
      level: 'debug',
      namespace: 'outbox.relay',
      message: `an idle pool connection died (${error.message})`,
    });
  poolEvents.on?.('error', onIdleError);
  // And a connection lost in the moment pg-pool hands a new one out (see ignoreLoss): in a
  // restart the relay opens connections while the server goes down, and that loss, with no
  // listener yet, is an uncaught exception. Removed by close() too.
  poolEvents.on?.('connect', ignoreLoss);

  const readers = Array.from({ length: shardCount }, (_, shard) => {
    const slots: number[] = [];
    for (let slot = shard; slot < OUTBOX_SLOTS; slot += shardCount) slots.push(slot);
    return new LogReader<Row>({
      table: table.sql,
      columns: 'topic, key, headers, body',
      positionColumn: 'position',
      partitions: { column: 'slot', values: slots },
    });
  });
  const deleteSql = `delete from ${table.sql} where position = any($1::bigint[])`;
  const burySql = `with moved as (delete from ${table.sql} where position = any($1::bigint[]) returning *)
    insert into ${deadTable} (position, topic, key, event_id, type, headers, body, created_at, reason)
    select m.position, m.topic, m.key, m.event_id, m.type, m.headers, m.body, m.created_at, r.reason
      from moved m join unnest($1::bigint[], $2::text[]) as r(position, reason) using (position)
    on conflict (position) do nothing`;

  const workers = new Map<number, ShardWorker>();
  let control: HeldConnection | undefined;
  let leases: Leases | undefined;
  let channel: string | undefined;
  let relays = 1;
  let relayed = 0;
  let closing = false;
  let timer: NodeJS.Timeout | undefined;
  let ticking: Promise<void> | undefined;
  let failing = false;

  class ShardWorker {
    readonly shard: number;
    readonly lease: HeldConnection;
    stopping = false;
    /**
     * A NOTIFY named this shard and the read after it found nothing: the row is held back by an
     * older transaction still open, whose own NOTIFY may name other shards only. So, until this
     * shard reads rows (or a poll interval passes quietly), every NOTIFY wakes it too.
     */
    expecting = false;
    #notified = false;
    #woken = false;
    #wake: (() => void) | undefined;
    readonly done: Promise<void>;

    /**
     * Own `shard` on `lease` and start reading. The worker is in `workers` before its loop runs:
     * a lease lost before that (a FATAL read in the same chunk as the lock query's answer, as when
     * PostgreSQL shuts down) ends the loop at once, and its exit must find it there to remove it,
     * or the shard would stay owned by a loop that has ended and never be taken again.
     */
    constructor(shard: number, lease: HeldConnection) {
      this.shard = shard;
      this.lease = lease;
      lease.onLost(() => this.wake());
      workers.set(shard, this);
      this.done = this.#run();
    }

    wake(notified = false): void {
      if (notified) this.#notified = true;
      this.#woken = true;
      this.#wake?.();
    }

    /** Wait `ms`, or less if woken (a wake that came while reading counts: nothing is missed). */
    #sleep(ms: number): Promise<void> {
      if (this.#woken || this.stopping || this.lease.lost) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(t);
          this.#wake = undefined;
          resolve();
        };
        const t = setTimeout(done, ms);
        this.#wake = done;
      });
    }

    async #run(): Promise<void> {
      const conn = this.lease.conn;
      let after: LogCheckpoint = LOG_START;
      let backoff = retryMs;
      try {
        while (!this.stopping && !this.lease.lost) {
          this.#woken = false;
          const notified = this.#notified;
          this.#notified = false;
          const rows = await readers[this.shard]!.read(conn, after, batchSize);
          if (rows.length === 0) {
            this.expecting = notified || (this.expecting && this.#woken);
            await this.#sleep(pollMs);
            continue;
          }
          this.expecting = false;
          const confirmed: number[] = [];
          const refused: Refused[] = [];
          const failed = await publish(rows, confirmed, refused);
          if (confirmed.length > 0) {
            await conn.query(deleteSql, [confirmed]);
            relayed += confirmed.length;
          }
          if (refused.length > 0) {
            await conn.query(burySql, [refused.map((r) => r.position), refused.map((r) => r.reason)]);
            for (const r of refused)
              log({
                level: 'error',
                namespace: 'outbox.relay',
                message: `event ${r.id} for '${r.topic}' refused by the broker for good (${r.reason}): moved to ${deadTable}`,
              });
          }
          if (failed === undefined) {
            after = rows[rows.length - 1]!.checkpoint;
            backoff = retryMs;
            continue;
          }
          if (failed === AGAIN) {
            after = LOG_START;
            continue;
          }
          // Start again from the oldest row left: the failed ones go before anything after them.
          after = LOG_START;
          warn(
            `shard ${this.shard}: ${rows.length - confirmed.length} of ${rows.length} events not confirmed by the broker (${failed.message}); retrying in ${backoff} ms`,
          );
          await this.#sleep(backoff);
          backoff = Math.min(MAX_RETRY_MS, backoff * 2);
        }
      } catch (error) {
        // A failed query on the lease: treat the connection (and the shard) as lost.
        this.lease.lose(error as Error);
      }
      if (this.lease.lost) {
        if (!closing)
          warn(`shard ${this.shard}: lost its connection (${this.lease.lost.message}); ownership given up`);
      } else {
        await leases!.release(this.shard, this.lease);
      }
      if (workers.get(this.shard) === this) workers.delete(this.shard);
    }
  }

  /**
   * Publish `rows` (oldest first) grouped by topic, in order; `confirmed` gets the positions the
   * broker accepted. Returns the first failure (the rows after it in that topic group that were
   * not confirmed, and every later group, wait for the next attempt), or undefined.
   */
  async function publish(
    rows: readonly { row: Row; checkpoint: LogCheckpoint }[],
    confirmed: number[],
    refused: Refused[],
  ): Promise<Error | typeof AGAIN | undefined> {
    const groups = new Map<string, { wires: WireMessage[]; positions: number[] }>();
    for (const { row, checkpoint } of rows) {
      let group = groups.get(row.topic);
      if (!group) {
        group = { wires: [], positions: [] };
        groups.set(row.topic, group);
      }
      group.wires.push({ headers: row.headers, body: row.body, key: row.key ?? undefined });
      group.positions.push(checkpoint.position);
    }
    for (const [topic, group] of groups) {
      try {
        await bus.publishWire(topic, group.wires);
        confirmed.push(...group.positions);
      } catch (error) {
        // Too large is for good: retrying would block the key's shard forever. Anything else may pass later.
        const refuse = (index: number, reason: string) =>
          refused.push({
            position: group.positions[index]!,
            reason,
            id: group.wires[index]!.headers.id ?? '?',
            topic,
          });
        if (error instanceof MessageTooLargeError && error.index < group.wires.length) {
          // The bus refused before sending anything: bury that one, read the rest again at once.
          refuse(error.index, error.message);
          return AGAIN;
        }
        if (!(error instanceof PublishBatchError)) return error as Error;
        const failed = new Set(error.failures.map((f) => f.index));
        let retry: Error | undefined;
        for (const f of error.failures) {
          if (f.error instanceof MessageTooLargeError) refuse(f.index, f.error.message);
          else retry = error;
        }
        group.positions.forEach((position, index) => {
          if (!failed.has(index)) confirmed.push(position);
        });
        if (retry) return retry;
      }
    }
    return undefined;
  }

  /** A NOTIFY: wake the shards of the slots it lists (all if it lists none), and those expecting rows. */
  const wakeFor = (payload: string) => {
    for (const worker of workers.values()) if (payload === '' || worker.expecting) worker.wake(true);
    if (payload === '') return;
    for (const slot of payload.split(',')) workers.get(Number(slot) % shardCount)?.wake(true);
  };

  /** Make sure the control connection is up: membership, lock key, LISTEN. */
  async function ensureControl(): Promise<HeldConnection> {
    if (control && !control.lost) return control;
    await migrate();
    const held = new HeldConnection(await checkout(pool));
    try {
      const { rows } = await held.conn.query<{ oid: string | null }>(
        'select to_regclass($1)::oid::text as oid',
        [table.sql],
      );
      const oid = rows[0]?.oid;
      if (!oid) throw new Error(`the outbox table ${table.sql} does not exist (migrate: false?)`);
      // The table's oid: unique per table, so relays of different tables never share locks.
      leases = new Leases(pool, Number(BigInt(oid) & 0x7fffffffn));
      channel = `sy_outbox_${oid}`;
      await leases.join(held);
      if (options.notify !== false) await held.listen(channel, wakeFor);
    } catch (error) {
      held.lose(error as Error);
      throw error;
    }
    if (closing) {
      // close() gave up waiting for this rebalance: do not keep membership and LISTEN after it.
      held.release(true);
      throw new Error('relay closed');
    }
    held.onLost(() => {
      if (!closing) warn(`control connection lost (${held.lost?.message}); reconnecting`);
    });
    control = held;
    return held;
  }

  async function tick(): Promise<void> {
    try {
      const held = await ensureControl();
      relays = await leases!.members(held);
      const share = Math.ceil(shardCount / relays);
      const owned = [...workers.values()].filter((w) => !w.stopping);
      if (owned.length > share) {
        // Another relay joined: give back the excess, after the batch in flight.
        for (const worker of owned.sort((a, b) => b.shard - a.shard).slice(0, owned.length - share)) {
          worker.stopping = true;
          worker.wake();
        }
      } else if (owned.length < share) {
        // Start at a random shard, so relays starting together do not all race for shard 0.
        const start = Math.floor(Math.random() * shardCount);
        const free: number[] = [];
        for (let i = 0; i < shardCount; i++) {
          const shard = (start + i) % shardCount;
          if (!workers.has(shard)) free.push(shard);
        }
        await leases!.acquire(free, share - owned.length, (shard, lease) => {
          if (closing) {
            void leases!.release(shard, lease);
            return;
          }
          new ShardWorker(shard, lease);
        });
      }
      if (failing) log({ level: 'info', namespace: 'outbox.relay', message: 'connected again' });
      failing = false;
    } catch (error) {
      // PostgreSQL down or restarting: said once, retried every rebalanceMs.
      if (!failing && !closing)
        warn(`cannot reach the outbox (${(error as Error).message}); retrying every ${rebalanceMs} ms`);
      failing = true;
    }
  }

  const schedule = () => {
    if (closing) return;
    timer = setTimeout(() => {
      ticking = tick().finally(schedule);
    }, rebalanceMs);
  };
  ticking = tick().finally(schedule);

  /** close(), once: finish or cut what each shard is publishing, then let go of every lock. */
  const stop = async (drainMs: number): Promise<void> => {
    closing = true;
    clearTimeout(timer);
    let deadline: NodeJS.Timeout | undefined;
    // Past what a timer keeps (Infinity): no deadline, every batch finishes.
    const expired = new Promise<false>((resolve) => {
      if (drainMs <= MAX_TIMER_MS) deadline = setTimeout(() => resolve(false), drainMs);
    });
    // A rebalance may be waiting for a connection the pool cannot give (exhausted, or a
    // connect that hangs): the deadline bounds that wait too. What it wins after this is
    // handed back (see `closing` in tick and ensureControl).
    await Promise.race([ticking?.catch(() => {}), expired]);
    const running = [...workers.values()];
    for (const worker of running) {
      worker.stopping = true;
      worker.wake();
    }
    const drained =
      running.length === 0 ||
      (await Promise.race([Promise.all(running.map((w) => w.done)).then(() => true), expired]));
    clearTimeout(deadline);
    if (!drained) {
      warn('close(): a batch was still publishing at the deadline; its shard connection is cut');
      for (const worker of workers.values()) worker.lease.lose(new Error('relay closed'));
    }
    control?.release(true);
    control = undefined;
    poolEvents.removeListener?.('error', onIdleError);
    poolEvents.removeListener?.('connect', ignoreLoss);
  };

  const owned = () => [...workers.keys()].sort((a, b) => a - b);
  let closed: Promise<void> | undefined;
  return {
    get shards() {
      return owned();
    },
    async stats() {
      const { rows } = await pool.query<{ backlog: string; oldest: number | null }>(
        `select count(*) as backlog,
                extract(epoch from clock_timestamp() - min(created_at)) * 1000 as oldest
           from ${table.sql}`,
      );
      return {
        backlog: Number(rows[0]?.backlog ?? 0),
        oldestAgeMs: Math.max(0, Math.round(Number(rows[0]?.oldest ?? 0))),
        shards: owned(),
        relays,
        relayed,
      };
    },
    close(opts = {}) {
      if (closed === undefined) {
        // NaN or a negative would have cut every shard's batch after 1 ms: refused, the relay
        // keeps running and a second close() with a good value stops it.
        const drainMs = opts.drainTimeoutMs ?? 10_000;
        if (typeof drainMs !== 'number' || !(drainMs >= 0))
          return Promise.reject(
            new RangeError(`drainTimeoutMs must be a number ≥ 0, not ${String(drainMs)}`),
          );
        closed = stop(drainMs);
      }
      return closed;
    },
  };
}
