import { derivedName, tableName } from '../names.ts';

/** Virtual shards a key hashes to; a relay with N shards owns the slots with slot % N = shard. */
export const OUTBOX_SLOTS = 1024;

/**
 * The outbox: one row per event, written in the user's transaction. `tx_id` (the writer's xid8)
 * lets a reader take only rows older than every running transaction, so a late commit is never
 * skipped. The event is stored already encoded (CloudEvents attributes + body), so its id stays
 * the same on every re-send. `slot` is derived from the key (or the id) by the database itself.
 */
export function outboxTable(name: string) {
  const table = tableName(name);
  const t = table.sql;
  return {
    table,
    ddl: [
      `create table if not exists ${t} (
        position bigint generated always as identity primary key,
        tx_id xid8 not null default pg_current_xact_id(),
        topic text not null,
        key text,
        event_id text not null,
        type text not null,
        headers jsonb not null,
        body bytea not null,
        slot smallint not null generated always as ((hashtext(coalesce(key, event_id)) & ${OUTBOX_SLOTS - 1})::smallint) stored,
        created_at timestamptz not null default now()
      )`,
      `create index if not exists ${derivedName(table, 'slot_tx')} on ${t} (slot, tx_id, position)`,
    ],
  };
}
