import type { SwitchyardEvent } from '@switchyard/core';
import { NAMED_ATTRIBUTES } from '@switchyard/core/transport';
import {
  type AppendResult,
  type Checkpoint,
  ConcurrencyError,
  type EventLog,
  type ExpectedVersion,
  type ReadStreamOptions,
  type Snapshot,
  type StoredEvent,
} from '@switchyard/eventsourcing';
import { LogReader } from '../log-reader.ts';
import { checkout, type SqlClient, type SqlPool } from '../sql.ts';
import { EVENT_STORE_DDL } from './schema.ts';

interface EventRow {
  stream_id: string;
  version: string;
  id: string;
  type: string;
  source: string;
  /** ISO 8601 with milliseconds, as toISOString() writes it: no Date parsed and printed per row. */
  time: string;
  data: unknown;
  ext: Record<string, string>;
  global_position: string;
  tx_id: string;
}

const ISO_TIME = `to_char(time at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as time`;
const READ_COLUMNS = `stream_id, version, id, type, source, ${ISO_TIME}, data, ext, global_position`;
const COLUMNS = `${READ_COLUMNS}, tx_id::text as tx_id`;

function expectedCode(expected: ExpectedVersion): number {
  if (expected === 'any') return -1;
  if (expected === 'no_stream') return -2;
  if (expected === 'exists') return -3;
  return expected;
}

/**
 * A row back into its CloudEvent. Built directly rather than through createEvent(): the event was
 * validated when appended, and validating every row again halved the catch-up rate.
 */
function toStored(row: EventRow, tx: string = row.tx_id): StoredEvent {
  const ext = row.ext;
  const extensions: Record<string, string> = {};
  for (const name in ext) if (!NAMED_ATTRIBUTES.has(name)) extensions[name] = ext[name]!;
  const event: SwitchyardEvent = {
    specversion: '1.0',
    id: row.id,
    source: row.source,
    type: row.type,
    time: row.time,
    subject: ext.subject,
    datacontenttype: ext.datacontenttype,
    dataschema: ext.dataschema,
    data: row.data,
    correlationid: ext.correlationid ?? row.id,
    causationid: ext.causationid,
    partitionkey: ext.partitionkey,
    key: ext.partitionkey,
    traceparent: ext.traceparent,
    tracestate: ext.tracestate,
    extensions,
  };
  const position = Number(row.global_position);
  return {
    event,
    streamId: row.stream_id,
    version: Number(row.version),
    position,
    checkpoint: { tx, position },
  };
}

function extOf(event: SwitchyardEvent): Record<string, string> {
  const ext: Record<string, string> = { ...event.extensions };
  for (const name of [
    'subject',
    'datacontenttype',
    'dataschema',
    'correlationid',
    'causationid',
    'partitionkey',
    'traceparent',
    'tracestate',
  ] as const) {
    const value = event[name];
    if (typeof value === 'string') ext[name] = value;
  }
  return ext;
}

/** The event log in PostgreSQL (tables `sy_streams`, `sy_events`, `sy_snapshots`, `sy_es_checkpoints`). */
export class PgEventLog implements EventLog {
  readonly #pool: SqlPool;
  readonly #reader = new LogReader<EventRow>({
    table: 'sy_events',
    columns: READ_COLUMNS,
  });

  constructor(pool: SqlPool) {
    this.#pool = pool;
  }

  /** Create the tables and the append function if missing. */
  async setup(): Promise<void> {
    const client = await checkout(this.#pool);
    try {
      await client.query('begin');
      await client.query("select pg_advisory_xact_lock(hashtext('sy_event_store_ddl'))");
      await client.query(EVENT_STORE_DDL);
      await client.query('commit');
      client.release();
    } catch (error) {
      await client.query('rollback').catch(() => {});
      client.release(true);
      throw error;
    }
  }

  append(
    streamId: string,
    events: readonly SwitchyardEvent[],
    expected: ExpectedVersion,
    options?: { readonly client?: unknown },
  ): Promise<AppendResult> {
    return this.#append(streamId, events, expected, options, false);
  }

  async #append(
    streamId: string,
    events: readonly SwitchyardEvent[],
    expected: ExpectedVersion,
    options: { readonly client?: unknown } | undefined,
    retried: boolean,
  ): Promise<AppendResult> {
    const client = (options?.client as SqlClient | undefined) ?? this.#pool;
    // An id twice in one append is stored once, as across appends.
    const seen = new Set<string>();
    const unique = events.filter((e) => !seen.has(e.id) && seen.add(e.id) !== undefined);
    const n = unique.length;
    const ids = new Array<string>(n);
    const types = new Array<string>(n);
    const sources = new Array<string>(n);
    const times = new Array<string>(n);
    // Data and extensions go as one JSON array each: one parse on the server, no array-literal
    // escaping of every event's JSON on the client.
    let data = '[';
    let ext = '[';
    for (let i = 0; i < n; i++) {
      const e = unique[i]!;
      ids[i] = e.id;
      types[i] = e.type;
      sources[i] = e.source;
      times[i] = e.time;
      const sep = i === 0 ? '' : ',';
      data += sep + (e.data === undefined ? 'null' : JSON.stringify(e.data));
      ext += sep + JSON.stringify(extOf(e));
    }
    data += ']';
    ext += ']';
    try {
      const { rows } = await client.query<{
        next_version: string;
        last_position: string;
        fresh: number[] | null;
      }>('select * from sy_append($1, $2, $3, $4, $5, $6, $7, $8)', [
        streamId,
        expectedCode(expected),
        ids,
        types,
        sources,
        times,
        data,
        ext,
      ]);
      const row = rows[0]!;
      const fresh = row.fresh === null ? unique : row.fresh.map((i) => unique[i - 1]!);
      return { nextVersion: Number(row.next_version), position: Number(row.last_position), events: fresh };
    } catch (error) {
      const e = error as { code?: string; detail?: string; constraint?: string };
      if (e.code === 'SY409') throw new ConcurrencyError(streamId, expected, Number(e.detail));
      // The same event id appended twice at once: both passed the id check, the second to insert
      // met the first's row. Again, it finds the id stored: a retried append. Not inside a
      // caller's transaction, which the error has aborted.
      if (
        e.code === '23505' &&
        e.constraint === 'sy_events_id_key' &&
        options?.client === undefined &&
        !retried
      )
        return this.#append(streamId, events, expected, options, true);
      throw error;
    }
  }

  async readStream(streamId: string, options: ReadStreamOptions): Promise<StoredEvent[]> {
    const { rows } = await this.#pool.query<EventRow>(
      `select ${COLUMNS} from sy_events where stream_id = $1 and version >= $2 and ($3::bigint is null or version <= $3)` +
        ' and ($4::timestamptz is null or time <= $4) order by version',
      [
        streamId,
        options.fromVersion ?? 1,
        options.toVersion ?? null,
        options.toTime === undefined ? null : new Date(options.toTime),
      ],
    );
    return rows.map((row) => toStored(row));
  }

  async readAll(from: Checkpoint, limit: number): Promise<StoredEvent[]> {
    return (await this.#reader.read(this.#pool, from, limit)).map((r) => toStored(r.row, r.checkpoint.tx));
  }

  head(): Promise<Checkpoint> {
    return this.#reader.head(this.#pool);
  }

  async oldestAfter(after: Checkpoint): Promise<Date | undefined> {
    const [next] = await this.#reader.read(this.#pool, after, 1);
    return next === undefined ? undefined : new Date(next.row.time);
  }

  async loadSnapshot(streamId: string, name: string): Promise<Snapshot | undefined> {
    const { rows } = await this.#pool.query<{ version: string; state: unknown; snapshot_version: string }>(
      'select version, state, snapshot_version from sy_snapshots where stream_id = $1 and name = $2',
      [streamId, name],
    );
    const row = rows[0];
    return row && { version: Number(row.version), state: row.state, snapshotVersion: row.snapshot_version };
  }

  async saveSnapshot(streamId: string, name: string, snapshot: Snapshot): Promise<void> {
    await this.#pool.query(
      'insert into sy_snapshots values ($1, $2, $3, $4::jsonb, $5) on conflict (stream_id, name) do update' +
        ' set version = excluded.version, state = excluded.state, snapshot_version = excluded.snapshot_version' +
        ' where sy_snapshots.version < excluded.version or sy_snapshots.snapshot_version <> excluded.snapshot_version',
      [streamId, name, snapshot.version, JSON.stringify(snapshot.state), snapshot.snapshotVersion],
    );
  }

  async loadCheckpoint(name: string): Promise<Checkpoint | undefined> {
    const { rows } = await this.#pool.query<{ tx: string; position: string }>(
      'select tx_id::text as tx, position from sy_es_checkpoints where name = $1',
      [name],
    );
    const row = rows[0];
    return row && { tx: row.tx, position: Number(row.position) };
  }

  async saveCheckpoint(name: string, checkpoint: Checkpoint): Promise<void> {
    await this.#pool.query(
      'insert into sy_es_checkpoints (name, tx_id, position) values ($1, $2::xid8, $3) on conflict (name)' +
        ' do update set tx_id = excluded.tx_id, position = excluded.position, updated_at = now()',
      [name, checkpoint.tx, checkpoint.position],
    );
  }
}
