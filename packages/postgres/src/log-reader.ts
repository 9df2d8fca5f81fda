import type { SqlClient } from './sql.ts';

/** A place in a log table: the writing transaction's id (xid8, decimal) and the row's position. */
export interface LogCheckpoint {
  readonly tx: string;
  readonly position: number;
}

export const LOG_START: LogCheckpoint = Object.freeze({ tx: '0', position: 0 });

/** Order of two checkpoints: by transaction id (decimal xid8, compared as numbers), then position. */
export function compareCheckpoints(a: LogCheckpoint, b: LogCheckpoint): number {
  if (a.tx !== b.tx) {
    if (a.tx.length !== b.tx.length) return a.tx.length - b.tx.length;
    return a.tx < b.tx ? -1 : 1;
  }
  return a.position - b.position;
}

export interface LogReaderOptions {
  /** The table, schema-qualified if need be (trusted: never from user input). */
  readonly table: string;
  /** Columns to select besides the checkpoint (e.g. `'id, type, data'`). */
  readonly columns: string;
  /** The xid8 column filled by `default pg_current_xact_id()`. Default `tx_id`. */
  readonly txColumn?: string;
  /** The increasing position column (identity). Default `global_position`. */
  readonly positionColumn?: string;
  /** Extra SQL condition (trusted), e.g. `stream_id like 'order-%'`. */
  readonly where?: string;
  /**
   * Read only rows whose integer `column` is one of `values`, with an index on
   * `(column, tx, position)`. Rather than sort every matching row for each read (all of a large
   * backlog, every time), it takes the first few rows of each value through the index and merges
   * them: the rows up to where the first cut-off list ends are a prefix of the order.
   */
  readonly partitions?: { readonly column: string; readonly values: readonly number[] };
}

export interface LogRow<R> {
  readonly row: R;
  readonly checkpoint: LogCheckpoint;
}

/**
 * The one gap-safe reader of an append-only table (events, outbox). A position is taken at insert
 * but visible only at commit, so "after the last position seen" loses late commits. This reads
 * `(tx_id, position) > checkpoint AND tx_id < pg_snapshot_xmin(pg_current_snapshot())`: only rows
 * whose transaction and every older one have finished (committed rows are then visible, rolled
 * back ones never will be), in commit order. So it never skips a late commit and never stalls on a
 * rolled-back hole; it waits only while an older transaction is still open.
 * The table wants an index on `(tx_id, position)`.
 */
export class LogReader<R = Record<string, unknown>> {
  readonly #read: string;
  readonly #head: string;
  readonly #partitions: readonly number[] | undefined;
  /** Rows taken per partition value; grows while cut-offs keep reads short, shrinks when none. */
  #perPartition = 0;

  constructor(options: LogReaderOptions) {
    const tx = options.txColumn ?? 'tx_id';
    const pos = options.positionColumn ?? 'global_position';
    const extra = options.where ? ` and (${options.where})` : '';
    const final = `${tx} < pg_snapshot_xmin(pg_current_snapshot())`;
    const after = `(${tx}, ${pos}) > ($1::xid8, $2::bigint)`;
    const partitions = options.partitions;
    this.#partitions = partitions?.values;
    this.#read =
      partitions === undefined
        ? `select ${options.columns}, ${tx}::text as sy_tx, ${pos} as sy_pos from ${options.table}` +
          ` where ${after} and ${final}${extra} order by ${tx}, ${pos} limit $3`
        : `select r.* from unnest($4::int[]) as sy_p(v) cross join lateral (` +
          `select ${options.columns}, ${tx}::text as sy_tx, ${pos} as sy_pos, sy_p.v as sy_part from ${options.table}` +
          ` where ${partitions.column} = sy_p.v and ${after} and ${final}${extra}` +
          ` order by ${tx}, ${pos} limit $3) as r`;
    this.#head =
      `select ${tx}::text as sy_tx, ${pos} as sy_pos from ${options.table} where ${final}${extra}` +
      ` order by ${tx} desc, ${pos} desc limit 1`;
  }

  /** Up to `limit` rows after `after` whose commit is final, oldest commit first. */
  async read(client: SqlClient, after: LogCheckpoint, limit: number): Promise<LogRow<R>[]> {
    if (this.#partitions !== undefined) return this.#readMerged(client, after, limit, this.#partitions);
    const { rows } = await client.query<R & { sy_tx: string; sy_pos: string | number }>(this.#read, [
      after.tx,
      after.position,
      limit,
    ]);
    return rows.map((row) => ({ row, checkpoint: { tx: row.sy_tx, position: Number(row.sy_pos) } }));
  }

  async #readMerged(
    client: SqlClient,
    after: LogCheckpoint,
    limit: number,
    partitions: readonly number[],
  ): Promise<LogRow<R>[]> {
    const base = Math.min(limit, Math.max(8, Math.ceil((2 * limit) / partitions.length)));
    const per = Math.min(limit, Math.max(base, this.#perPartition));
    const { rows } = await client.query<R & { sy_tx: string; sy_pos: string | number; sy_part: number }>(
      this.#read,
      [after.tx, after.position, per, partitions],
    );
    const read = rows.map((row) => ({ row, checkpoint: { tx: row.sy_tx, position: Number(row.sy_pos) } }));
    read.sort((a, b) => compareCheckpoints(a.checkpoint, b.checkpoint));
    // A partition that returned `per` rows may have more: nothing after its last row is known to
    // come before them, so the merge is cut at the earliest such last row.
    const counts = new Map<number, number>();
    const last = new Map<number, LogCheckpoint>();
    for (const r of read) {
      counts.set(r.row.sy_part, (counts.get(r.row.sy_part) ?? 0) + 1);
      last.set(r.row.sy_part, r.checkpoint);
    }
    let cut: LogCheckpoint | undefined;
    for (const [part, count] of counts) {
      const end = last.get(part)!;
      if (count >= per && (cut === undefined || compareCheckpoints(end, cut) < 0)) cut = end;
    }
    let end = read.length;
    if (cut !== undefined) end = read.findIndex((r) => compareCheckpoints(r.checkpoint, cut) > 0);
    if (end < 0) end = read.length;
    const taken = read.slice(0, Math.min(limit, end));
    // Cut short: take more per partition next time; nothing cut: fewer will do.
    if (cut === undefined) this.#perPartition = Math.max(base, Math.floor(per / 2));
    else if (taken.length < limit) this.#perPartition = Math.min(limit, per * 2);
    return taken;
  }

  /** The last checkpoint a reader can reach now. */
  async head(client: SqlClient): Promise<LogCheckpoint> {
    const { rows } = await client.query<{ sy_tx: string; sy_pos: string | number }>(this.#head);
    const row = rows[0];
    return row ? { tx: row.sy_tx, position: Number(row.sy_pos) } : LOG_START;
  }
}
