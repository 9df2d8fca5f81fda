import { derivedName, tableName } from '../names.ts';

/** The idempotency table: one row per (group:event id) key, a claim (pending) or a done mark. */
export function idempotencyTable(name: string) {
  const table = tableName(name);
  return {
    table,
    ddl: [
      `create table if not exists ${table.sql} (
        key text primary key,
        state text not null check (state in ('pending', 'done')),
        owner text,
        expires_at timestamptz not null
      )`,
      // The cleanup deletes by expiry; without the index it would scan the table.
      `create index if not exists ${derivedName(table, 'expires_at')} on ${table.sql} (expires_at)`,
    ],
  };
}
