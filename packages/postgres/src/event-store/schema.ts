/** Tables and the append function; created if missing, under an advisory lock so starts do not race. */
export const EVENT_STORE_DDL = `
create table if not exists sy_streams (stream_id text primary key, version bigint not null);
create table if not exists sy_events (
  global_position bigint generated always as identity primary key,
  stream_id text not null, version bigint not null, id text not null unique,
  type text not null, source text not null, time timestamptz not null,
  data jsonb, ext jsonb not null default '{}',
  tx_id xid8 not null default pg_current_xact_id(),
  unique (stream_id, version));
create index if not exists sy_events_tx on sy_events (tx_id, global_position);
create index if not exists sy_events_time on sy_events (stream_id, time);
create table if not exists sy_snapshots (stream_id text not null, name text not null, version bigint not null,
  state jsonb, snapshot_version text not null, primary key (stream_id, name));
create table if not exists sy_es_checkpoints (name text primary key, tx_id xid8 not null, position bigint not null,
  updated_at timestamptz not null default now());
-- One statement per append: atomic without BEGIN/COMMIT round trips. p_expected: >= 0 a version,
-- -1 any, -2 no_stream, -3 exists. SQLSTATE SY409 = concurrency conflict (DETAIL: actual version).
create or replace function sy_append(p_stream text, p_expected bigint, p_events jsonb)
returns table (next_version bigint, last_position bigint, fresh int) language plpgsql as $$
declare
  cur bigint; n int; actual bigint; evs jsonb;
begin
  select coalesce(jsonb_agg(e order by o), '[]'::jsonb) into evs
    from jsonb_array_elements(p_events) with ordinality t(e, o)
    where not exists (select 1 from sy_events where id = e->>'id');
  n := jsonb_array_length(evs);
  if n = 0 then
    select s.version into cur from sy_streams s where s.stream_id = p_stream;
    return query select coalesce(cur, 0), (select max(global_position) from sy_events where id in
      (select e->>'id' from jsonb_array_elements(p_events) e)), 0;
    return;
  end if;
  if p_expected = -2 or p_expected = 0 then
    insert into sy_streams values (p_stream, n) on conflict do nothing;
    if not found then cur := null; else cur := 0; end if;
  elsif p_expected = -1 then
    insert into sy_streams values (p_stream, n) on conflict (stream_id)
      do update set version = sy_streams.version + n returning version - n into cur;
  elsif p_expected = -3 then
    update sy_streams set version = version + n where stream_id = p_stream returning version - n into cur;
  else
    update sy_streams set version = version + n where stream_id = p_stream and version = p_expected
      returning version - n into cur;
  end if;
  if cur is null then
    select s.version into actual from sy_streams s where s.stream_id = p_stream;
    raise exception using errcode = 'SY409', message = 'concurrency conflict', detail = coalesce(actual, 0)::text;
  end if;
  return query with ins as (
    insert into sy_events (stream_id, version, id, type, source, time, data, ext)
    select p_stream, cur + o, e->>'id', e->>'type', e->>'source', (e->>'time')::timestamptz, e->'data', e->'ext'
    from jsonb_array_elements(evs) with ordinality t(e, o)
    returning global_position)
  select cur + n, max(global_position), n from ins;
end $$;
`;
