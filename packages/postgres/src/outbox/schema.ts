import { derivedName, tableName } from '../names.ts';

/** Virtual shards a key hashes to; a relay with N shards owns the slots with slot % N = shard. */
export const OUTBOX_SLOTS = 1024;

/** The outbox table as `pgOutbox` and `outboxRelay` name it: `table` in `schema` when given. */
export function outboxName(options: { schema?: string | undefined; table?: string | undefined }): string {
  const table = options.table ?? 'sy_outbox';
  return options.schema === undefined ? table : `${options.schema}.${table}`;
}

/**
 * The outbox: one row per event, written in the user's transaction. `tx_id` (the writer's xid8)
 * lets a reader take only rows older than every running transaction, so a late commit is never
 * skipped. The event is stored already encoded (CloudEvents attributes + body), so its id stays
 * the same on every re-send. `slot` is derived from the key (or the id) by the database itself.
 *
 * A statement trigger NOTIFYs `sy_outbox_<table oid>` with the slots written (delivered at commit;
 * the same payload twice in a transaction is sent once), so a relay wakes at once instead of at its
 * next poll, and only the shards concerned. The channel is named
 * by oid: unique per table and short enough whatever the schema and table names.
 */
export function outboxTable(name: string) {
  const table = tableName(name);
  const t = table.sql;
  // The function lives beside the table (same schema, or the search_path's first if unqualified).
  const schemaPrefix = table.sql.includes('.') ? `${table.sql.slice(0, table.sql.lastIndexOf('.'))}.` : '';
  const notify = `${schemaPrefix}${derivedName(table, 'notify_slots')}`;
  const trigger = derivedName(table, 'notify_slots');
  const view = `${schemaPrefix}${derivedName(table, 'debezium')}`;
  const dead = `${schemaPrefix}${derivedName(table, 'dead')}`;
  const literal = t.replaceAll("'", "''");
  return {
    table,
    /** The Debezium-shaped view (id, aggregatetype, aggregateid, type, payload). */
    view,
    /** Where the relay moves an event the broker refuses for good (too large), with the reason. */
    dead,
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
      // The payload lists the slots written (at most 1024 numbers, under NOTIFY's 8000 bytes), so
      // a relay wakes only the shards that have something to read.
      `create or replace function ${notify}() returns trigger language plpgsql as $$
       begin
         perform pg_notify('sy_outbox_' || TG_RELID::oid::text,
                           (select string_agg(distinct slot::text, ',') from sy_inserted));
         return null;
       end $$`,
      // CREATE OR REPLACE TRIGGER is PostgreSQL 14+; this works on 13 too.
      `do $$ begin
         if not exists (select 1 from pg_trigger where tgrelid = '${literal}'::regclass and tgname = ${quoteLiteral(trigger)}) then
           create trigger ${trigger} after insert on ${t} referencing new table as sy_inserted
             for each statement execute function ${notify}();
         end if;
       end $$`,
      // An event no broker will take (larger than it accepts) must neither block its key's shard
      // forever nor vanish: the relay moves it here with the reason, for a person to look at.
      `create table if not exists ${dead} (
        position bigint primary key,
        topic text not null,
        key text,
        event_id text not null,
        type text not null,
        headers jsonb not null,
        body bytea not null,
        created_at timestamptz not null,
        reason text not null,
        dead_at timestamptz not null default now()
      )`,
      // For tools and for a later move to CDC (see the README): the Debezium outbox columns.
      `create or replace view ${view} as
         select event_id as id, topic as aggregatetype, key as aggregateid, type,
                case when coalesce(headers->>'datacontenttype', '') ~* '^application/([a-z0-9.+-]*\\+)?json'
                     then convert_from(body, 'UTF8')::jsonb end as payload,
                body as payload_bytes, headers, created_at
           from ${t}`,
    ],
  };
}

/** `"name"` (a quoted identifier, as derivedName gives it) as the SQL string literal of the bare name. */
function quoteLiteral(quotedIdentifier: string): string {
  return `'${quotedIdentifier.slice(1, -1).replaceAll("'", "''")}'`;
}
