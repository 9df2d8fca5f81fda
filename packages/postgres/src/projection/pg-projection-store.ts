import { timerMs } from '@switchyard/core/transport';
import type { Checkpoint, ParkedEvent, ProjectionLease, ProjectionStore } from '@switchyard/eventsourcing';
import { checkout, requirePool, type SqlConnection, type SqlPool } from '../sql.ts';

const DDL = `
create table if not exists sy_checkpoints (name text not null, version int not null, tx_id xid8 not null,
  position bigint not null, updated_at timestamptz not null default now(), primary key (name, version));
create table if not exists sy_projections (name text primary key, active_version int not null);
create table if not exists sy_projection_parked (name text not null, version int not null, event_id text not null,
  type text not null, stream_id text not null, stream_version bigint not null, tx_id xid8 not null,
  position bigint not null, reason text not null, attempts int not null,
  parked_at timestamptz not null default now(), primary key (name, version, event_id));`;

export interface PgProjectionStoreOptions {
  readonly pool: SqlPool;
  /** How often a waiting runner tries the lock. Default 1 000 ms (takeover within ~1 s of the holder's connection dying). */
  readonly lockPollMs?: number;
}

/**
 * Projection checkpoints, locks and active versions in PostgreSQL. The lock of `name@version` is a
 * session advisory lock on a connection of its own; every batch commits on that same connection, in
 * one transaction with a compare-and-set of the checkpoint. So a runner whose connection died can
 * commit nothing more (its lock went with it), and the next holder starts from the last commit.
 */
export class PgProjectionStore implements ProjectionStore<SqlConnection> {
  readonly #pool: SqlPool;
  readonly #pollMs: number;
  #ready: Promise<void> | undefined;

  constructor(options: PgProjectionStoreOptions) {
    this.#pool = requirePool(options?.pool, 'new PgProjectionStore()');
    this.#pollMs = timerMs('lockPollMs', options.lockPollMs ?? 1_000);
  }

  setup(): Promise<void> {
    this.#ready ??= (async () => {
      const c = await checkout(this.#pool);
      try {
        await c.query('begin');
        await c.query("select pg_advisory_xact_lock(hashtext('sy_projection_ddl'))");
        await c.query(DDL);
        await c.query('commit');
        c.release();
      } catch (error) {
        await c.query('rollback').catch(() => {});
        c.release(true);
        this.#ready = undefined;
        throw error;
      }
    })();
    return this.#ready;
  }

  async acquire(
    name: string,
    version: number,
    options: { wait: boolean; signal?: AbortSignal },
  ): Promise<ProjectionLease<SqlConnection> | undefined> {
    await this.setup();
    const key = `${name}@${version}`;
    for (;;) {
      if (options.signal?.aborted) return undefined;
      const conn = await checkout(this.#pool);
      let got = false;
      try {
        got = (
          await conn.query<{ ok: boolean }>(
            "select pg_try_advisory_lock(hashtext('sy_projection'), hashtext($1)) as ok",
            [key],
          )
        ).rows[0]!.ok;
      } catch {
        conn.release(true);
        got = false;
      }
      if (got) return this.#lease(conn, name, version, key);
      conn.release();
      if (!options.wait) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.#pollMs);
        options.signal?.addEventListener(
          'abort',
          () => {
            clearTimeout(timer);
            resolve();
          },
          { once: true },
        );
      });
    }
  }

  #lease(conn: SqlConnection, name: string, version: number, key: string): ProjectionLease<SqlConnection> {
    const lost = new AbortController();
    const emitter = conn as unknown as {
      on?: (event: string, fn: () => void) => void;
      removeListener?: (event: string, fn: () => void) => void;
    };
    const onError = () => lost.abort(new Error(`Projection '${key}': lock connection lost`));
    const onEnd = () => lost.abort(new Error(`Projection '${key}': lock connection ended`));
    emitter.on?.('error', onError);
    emitter.on?.('end', onEnd);
    let broken = false;
    const inTx = async (work: (tx: SqlConnection) => Promise<void>, after: () => Promise<boolean>) => {
      await conn.query('begin');
      try {
        await work(conn);
        if (!(await after())) {
          await conn.query('rollback');
          return false;
        }
        await conn.query('commit');
        return true;
      } catch (error) {
        await conn.query('rollback').catch(() => {
          broken = true;
        });
        throw error;
      }
    };
    const moveCheckpoint = async (from: Checkpoint | undefined, to: Checkpoint) => {
      const result = from
        ? await conn.query(
            'update sy_checkpoints set tx_id = $3::xid8, position = $4, updated_at = now() where name = $1 and version = $2 and tx_id = $5::xid8 and position = $6',
            [name, version, to.tx, to.position, from.tx, from.position],
          )
        : await conn.query(
            'insert into sy_checkpoints (name, version, tx_id, position) values ($1, $2, $3::xid8, $4) on conflict do nothing',
            [name, version, to.tx, to.position],
          );
      return (result.rowCount ?? 0) === 1;
    };
    return {
      name,
      version,
      lost: lost.signal,
      commit: (from, to, work) => inTx(work, () => moveCheckpoint(from, to)),
      park: (from, to, event) =>
        inTx(
          async () => {
            await conn.query(
              'insert into sy_projection_parked (name, version, event_id, type, stream_id, stream_version, tx_id,' +
                ' position, reason, attempts, parked_at) values ($1, $2, $3, $4, $5, $6, $7::xid8, $8, $9, $10, $11)' +
                ' on conflict do nothing',
              [
                name,
                version,
                event.eventId,
                event.type,
                event.streamId,
                event.streamVersion,
                event.checkpoint.tx,
                event.checkpoint.position,
                event.reason,
                event.attempts,
                event.parkedAt,
              ],
            );
          },
          () => moveCheckpoint(from, to),
        ),
      reset: async (work) => {
        await inTx(work, async () => {
          await conn.query('delete from sy_checkpoints where name = $1 and version = $2', [name, version]);
          await conn.query('delete from sy_projection_parked where name = $1 and version = $2', [
            name,
            version,
          ]);
          return true;
        });
      },
      release: async () => {
        try {
          if (!broken && !lost.signal.aborted) {
            await conn.query("select pg_advisory_unlock(hashtext('sy_projection'), hashtext($1))", [key]);
            // Back to the pool without this lease's listeners (a connection being ended keeps
            // them, so an error while it closes does not crash the process).
            emitter.removeListener?.('error', onError);
            emitter.removeListener?.('end', onEnd);
            conn.release();
          } else conn.release(true);
        } catch {
          conn.release(true);
        }
      },
    };
  }

  async checkpoint(name: string, version: number): Promise<Checkpoint | undefined> {
    await this.setup();
    const { rows } = await this.#pool.query<{ tx: string; position: string }>(
      'select tx_id::text as tx, position from sy_checkpoints where name = $1 and version = $2',
      [name, version],
    );
    const row = rows[0];
    return row && { tx: row.tx, position: Number(row.position) };
  }

  async parked(name: string, version: number): Promise<ParkedEvent[]> {
    await this.setup();
    const { rows } = await this.#pool.query<{
      event_id: string;
      type: string;
      stream_id: string;
      stream_version: string;
      tx: string;
      position: string;
      reason: string;
      attempts: number;
      parked_at: Date;
    }>(
      'select event_id, type, stream_id, stream_version, tx_id::text as tx, position, reason, attempts, parked_at' +
        ' from sy_projection_parked where name = $1 and version = $2 order by tx_id, position',
      [name, version],
    );
    return rows.map((r) => ({
      name,
      version,
      eventId: r.event_id,
      type: r.type,
      streamId: r.stream_id,
      streamVersion: Number(r.stream_version),
      checkpoint: { tx: r.tx, position: Number(r.position) },
      reason: r.reason,
      attempts: r.attempts,
      parkedAt: r.parked_at,
    }));
  }

  async activate(name: string, version: number): Promise<void> {
    await this.setup();
    await this.#pool.query(
      'insert into sy_projections values ($1, $2) on conflict (name) do update set active_version = excluded.active_version',
      [name, version],
    );
  }

  async active(name: string): Promise<number | undefined> {
    await this.setup();
    const { rows } = await this.#pool.query<{ v: number }>(
      'select active_version as v from sy_projections where name = $1',
      [name],
    );
    return rows[0]?.v;
  }
}
