import type { SqlClient } from './sql.ts';

/** A place in a log table: the writing transaction's id (xid8, decimal) and the row's position. */
export interface LogCheckpoint {
  readonly tx: string;
  readonly position: number;
}

export const LOG_START: LogCheckpoint = Object.freeze({ tx: '0', position: 0 });

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

  constructor(options: LogReaderOptions) {
    const tx = options.txColumn ?? 'tx_id';
    const pos = options.positionColumn ?? 'global_position';
    const extra = options.where ? ` and (${options.where})` : '';
    const final = `${tx} < pg_snapshot_xmin(pg_current_snapshot())`;
    this.#read =
      `select ${options.columns}, ${tx}::text as sy_tx, ${pos} as sy_pos from ${options.table}` +
      ` where (${tx}, ${pos}) > ($1::xid8, $2::bigint) and ${final}${extra}` +
      ` order by ${tx}, ${pos} limit $3`;
    this.#head =
      `select ${tx}::text as sy_tx, ${pos} as sy_pos from ${options.table} where ${final}${extra}` +
      ` order by ${tx} desc, ${pos} desc limit 1`;
  }

  /** Up to `limit` rows after `after` whose commit is final, oldest commit first. */
  async read(client: SqlClient, after: LogCheckpoint, limit: number): Promise<LogRow<R>[]> {
    const { rows } = await client.query<R & { sy_tx: string; sy_pos: string | number }>(this.#read, [
      after.tx,
      after.position,
      limit,
    ]);
    return rows.map((row) => ({ row, checkpoint: { tx: row.sy_tx, position: Number(row.sy_pos) } }));
  }

  /** The last checkpoint a reader can reach now. */
  async head(client: SqlClient): Promise<LogCheckpoint> {
    const { rows } = await client.query<{ sy_tx: string; sy_pos: string | number }>(this.#head);
    const row = rows[0];
    return row ? { tx: row.sy_tx, position: Number(row.sy_pos) } : LOG_START;
  }
}
