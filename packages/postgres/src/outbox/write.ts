import type { SwitchyardEvent } from '@switchyard/core';
import { encode } from '@switchyard/core/transport';
import type { SqlClient } from '../sql.ts';

/** Insert already-built events into the outbox table `t` (quoted) on the caller's transaction. */
export async function insertOutbox(
  tx: SqlClient,
  t: string,
  topic: string,
  events: readonly SwitchyardEvent[],
): Promise<void> {
  if (events.length === 0) return;
  const keys: (string | null)[] = [];
  const ids: string[] = [];
  const types: string[] = [];
  const headers: string[] = [];
  const bodies: Buffer[] = [];
  for (const event of events) {
    const wire = encode(event);
    keys.push(wire.key ?? null);
    ids.push(event.id);
    types.push(event.type);
    headers.push(JSON.stringify(wire.headers));
    bodies.push(Buffer.from(wire.body.buffer, wire.body.byteOffset, wire.body.byteLength));
  }
  await tx.query(
    `insert into ${t} (topic, key, event_id, type, headers, body)
     select $1, k, i, ty, h::jsonb, b from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bytea[]) as u(k, i, ty, h, b)`,
    [topic, keys, ids, types, headers, bodies],
  );
}
