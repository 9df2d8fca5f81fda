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
-- Time queries (asOf) read a stream by version and filter on time: no index of their own, one
-- index fewer to write per event.
drop index if exists sy_events_time;
create table if not exists sy_snapshots (stream_id text not null, name text not null, version bigint not null,
  state jsonb, snapshot_version text not null, primary key (stream_id, name));
create table if not exists sy_es_checkpoints (name text primary key, tx_id xid8 not null, position bigint not null,
  updated_at timestamptz not null default now());
-- One statement per append: atomic without BEGIN/COMMIT round trips. Events come as one array per
-- column and go in with one insert from unnest (no JSON document to take apart row by row).
-- p_expected: >= 0 a version, -1 any, -2 no_stream, -3 exists. SQLSTATE SY409 = concurrency
-- conflict (DETAIL: actual version). fresh: null when every event was new, else the 1-based
-- indexes of those stored (ids stored already are left out; none left = a retried append).
drop function if exists sy_append(text, bigint, jsonb);
drop function if exists sy_append(text, bigint, text[], text[], text[], timestamptz[], jsonb[], jsonb[]);
create or replace function sy_append(p_stream text, p_expected bigint, p_ids text[], p_types text[],
  p_sources text[], p_times timestamptz[], p_data jsonb, p_ext jsonb)
returns table (next_version bigint, last_position bigint, fresh int[]) language plpgsql
-- PL/pgSQL keeps a generic plan per session. Planned while sy_events is small (a new store, before
-- autovacuum's first analyze), the id lookup became a sequential scan for the life of the session:
-- every append then read the whole table (measured: 40 ms -> 200 ms per append as it grew). Each
-- statement here is an index probe or an insert, so seq scans are never the better plan.
set enable_seqscan = off as $$
declare
  cur bigint; n int; actual bigint; keep int[]; retried boolean := false;
begin
  -- Optimistic: an append that repeats a stored id (a retry) is rare, so ids are not looked up
  -- first (100 index probes per 100 events); the unique index on id tells, and only then is the
  -- append done again without the ids stored already. The block's subtransaction undoes the first try.
  loop
    begin
      if retried and exists (select 1 from sy_events where id = any(p_ids)) then
        select coalesce(array_agg(o::int order by o), '{}') into keep from unnest(p_ids) with ordinality t(i, o)
          where not exists (select 1 from sy_events where id = i);
        if cardinality(keep) = 0 then
          select s.version into cur from sy_streams s where s.stream_id = p_stream;
          return query select coalesce(cur, 0),
            (select max(global_position) from sy_events where id = any(p_ids)), keep;
          return;
        end if;
        select array_agg(p_ids[k] order by k), array_agg(p_types[k] order by k),
          array_agg(p_sources[k] order by k), array_agg(p_times[k] order by k),
          jsonb_agg(p_data -> (k - 1) order by k), jsonb_agg(p_ext -> (k - 1) order by k)
          into p_ids, p_types, p_sources, p_times, p_data, p_ext from unnest(keep) k;
      end if;
      n := coalesce(cardinality(p_ids), 0);
      if n = 0 then
        select s.version into cur from sy_streams s where s.stream_id = p_stream;
        return query select coalesce(cur, 0), 0::bigint, '{}'::int[];
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
      insert into sy_events (stream_id, version, id, type, source, time, data, ext)
        select p_stream, cur + o, i, ty, so, ti, p_data -> (o::int - 1), p_ext -> (o::int - 1)
        from unnest(p_ids, p_types, p_sources, p_times) with ordinality t(i, ty, so, ti, o);
      -- This session's last sequence value: the position of the last row just inserted.
      return query select cur + n, currval(pg_get_serial_sequence('sy_events', 'global_position')), keep;
      return;
    -- A version conflict too: a retried append whose events are all stored answers as done, not as
    -- a conflict, so the second pass looks the ids up before it judges the version.
    exception when unique_violation or sqlstate 'SY409' then
      if retried then raise; end if;
      retried := true;
    end;
  end loop;
end $$;
`;
