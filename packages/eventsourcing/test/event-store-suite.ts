// The event-store suite: one set of cases every backend passes (memory here, PostgreSQL in
// @switchyard/postgres). Each case uses its own streams, event types and projection names, so the
// cases share one store per run without seeing each other.
import { randomBytes } from 'node:crypto';
import {
  connect,
  fixedBackoff,
  handle,
  NonRetryableError,
  type Outcome,
  SchemaRegistry,
  type SwitchyardEvent,
} from '@switchyard/core';
import type { Subscription } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ConcurrencyError,
  type EventStore,
  type EventStoreOptions,
  type NewEvent,
  ProjectionBusyError,
  type ProjectionErrorInfo,
  ProjectionHaltedError,
  type ProjectionStore,
  projection,
  rebuildProjection,
  runProjection,
} from '../src/index.ts';

/** A read model kept per table: a total and an applied count per stream. */
export interface TotalsModel<Tx> {
  create(table: string): Promise<void>;
  /** Add `n` to `stream`'s total and count one application, in `tx`. */
  add(tx: Tx, table: string, stream: string, n: number): Promise<void>;
  truncate(tx: Tx, table: string): Promise<void>;
  /** A hash of (stream, total) rows, the applications counted and the sum of totals. */
  read(table: string): Promise<{ hash: string; applied: number; sum: number }>;
}

/** A child process running a projection runner on the same state, killed with SIGKILL. */
export interface RunnerProcess {
  /** Resolves once the child's runner holds the lock and has applied at least one event. */
  readonly active: Promise<void>;
  kill(): void;
}

/** Fresh state for one case: stores on it are different processes' views of the same data. */
export interface EventStoreWorld<Tx> {
  /** A store on this world's state; each call is another process's view (its own connections). */
  open(options?: EventStoreOptions): Promise<EventStore>;
  /** A projection store on this world's state; each call is another process's view. */
  projections(options?: { lockPollMs?: number }): Promise<ProjectionStore<Tx>>;
  readonly totals: TotalsModel<Tx>;
  /**
   * Start a 100-event append and kill its connection while it runs (`delayMs` after the start, or
   * while it waits on the stream's row lock when `delayMs` is undefined); resolves once it is over.
   */
  killMidAppend?(store: EventStore, streamId: string, events: NewEvent[], delayMs?: number): Promise<void>;
  /** Append inside a transaction left open until `commit` or `rollback`. */
  holdAppend?(
    store: EventStore,
    streamId: string,
    events: NewEvent[],
  ): Promise<{ commit(): Promise<void>; rollback(): Promise<void> }>;
  /** A runner of projection `name` (event type `type`, into `table`) in a child process. */
  spawnRunner?(name: string, type: string, table: string): RunnerProcess;
  close(): Promise<void>;
}

export interface EventStoreBackend<Tx> {
  readonly name: string;
  /** Fresh state for a case (PostgreSQL: a schema of its own; memory: a new log). */
  world(): Promise<EventStoreWorld<Tx>>;
  /**
   * Why the cases needing a hook of the world do not apply to this backend (the world has no
   * such hook then): `kill` (killMidAppend), `gap` (holdAppend), `sigkill` (spawnRunner).
   */
  readonly notApplicable?: { readonly kill?: string; readonly gap?: string; readonly sigkill?: string };
}

type Totals = { total: number; count: number; order: number };
const initial: Totals = { total: 0, count: 0, order: 0 };
/** Order-sensitive, so a fold that skips, repeats or reorders an event gives another state. */
const evolve = (s: Totals, e: SwitchyardEvent<unknown>): Totals => {
  const n = (e.data as { n: number }).n;
  return { total: s.total + n, count: s.count + 1, order: (s.order * 31 + n + 1) % 1_000_000_007 };
};
const rand = () => randomBytes(4).toString('hex');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Run `work` over `items`, `width` at a time. */
async function pooled<T>(
  items: readonly T[],
  width: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

export function eventStoreSuite<Tx>(backend: EventStoreBackend<Tx>): void {
  /**
   * Wait until `table` counts `applied` events. Not caughtUp(): the head a reader can reach stops
   * before any transaction still open in the whole PostgreSQL cluster (other tests' included), so
   * "caught up" may be short of the last append for a while; the count is what the test means.
   */
  const applied = (w: EventStoreWorld<Tx>, table: string, n: number) =>
    vi.waitFor(async () => expect((await w.totals.read(table)).applied).toBe(n), {
      timeout: 30_000,
      interval: 20,
    });

  describe(`event store suite: ${backend.name}`, () => {
    const cleanup: (() => unknown)[] = [];
    afterEach(async () => {
      for (const step of cleanup.splice(0).reverse()) await step();
    });
    let w: EventStoreWorld<Tx>;
    beforeEach(async () => {
      w = await backend.world();
      cleanup.push(() => w.close());
    });

    /** A projection of `type` events into `table`, summing data.n per stream. */
    const totalsProjection = (name: string, version: number, type: string, table: string) =>
      projection<Tx>({
        name,
        version,
        handlers: {
          [type]: (e, { tx, stored }) =>
            w.totals.add(tx, table, stored.streamId, (e.data as { n: number }).n),
        },
        truncate: (tx) => w.totals.truncate(tx, table),
      });

    it('8 connections append with the same expected version: exactly 1 wins, versions without holes', async () => {
      const stores = await Promise.all(Array.from({ length: 8 }, () => w.open()));
      for (let round = 0; round < 5; round++) {
        const stream = `race-${rand()}`;
        await stores[0]!.append(stream, [{ type: 't', data: { n: 0 } }], { expectedVersion: 'no_stream' });
        const results = await Promise.allSettled(
          stores.map((s, i) => s.append(stream, [{ type: 't', data: { n: i } }], { expectedVersion: 1 })),
        );
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        for (const r of results)
          if (r.status === 'rejected') {
            expect(r.reason).toBeInstanceOf(ConcurrencyError);
            expect((r.reason as ConcurrencyError).actual).toBe(2);
          }
        expect((await stores[0]!.readStream(stream)).map((s) => s.version)).toEqual([1, 2]);
      }
      // 'any' from all 8 at once: all land, versions 1..n without holes or repeats.
      const stream = `any-${rand()}`;
      await Promise.all(
        stores.map((s, i) =>
          s.append(stream, [
            { type: 't', data: { n: i } },
            { type: 't', data: { n: i } },
          ]),
        ),
      );
      expect((await stores[0]!.readStream(stream)).map((s) => s.version)).toEqual(
        Array.from({ length: 16 }, (_, i) => i + 1),
      );
      // The same event appended by all 8 at once (a retry racing the original): stored once, no error.
      for (let round = 0; round < 5; round++) {
        const twice = `twice-${rand()}`;
        const id = `same-${rand()}`;
        const results = await Promise.all(
          stores.map((s) => s.append(twice, [{ type: 't', id, data: { n: 1 } }])),
        );
        expect(results.filter((r) => r.events.length === 1)).toHaveLength(1);
        expect((await stores[0]!.readStream(twice)).map((s) => s.event.id)).toEqual([id]);
      }
    });

    it('no_stream / exists / any and the same event id stored once; CloudEvent attributes round-trip', async () => {
      const store = await w.open({ source: 'suite' });
      const x = `x-${rand()}`;
      await expect(store.append(x, [{ type: 't' }], { expectedVersion: 'exists' })).rejects.toBeInstanceOf(
        ConcurrencyError,
      );
      const id = `id-${rand()}`;
      const input = {
        type: 't',
        id,
        data: { n: 1 },
        correlationid: 'corr',
        causationid: 'cause',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      };
      await store.append(x, [input], { expectedVersion: 'no_stream' });
      await expect(store.append(x, [{ type: 't' }], { expectedVersion: 'no_stream' })).rejects.toBeInstanceOf(
        ConcurrencyError,
      );
      const retried = await store.append(x, [input], { expectedVersion: 'no_stream' }); // a retried append
      expect(retried.events).toEqual([]);
      expect(retried.nextVersion).toBe(1);
      const other = `o-${rand()}`;
      // A new event beside an already stored one: only the new one is stored (and reported).
      const mixed = await store.append(x, [input, { type: 't', id: other, data: { n: 2 } }, input], {
        expectedVersion: 1,
      });
      expect(mixed.events.map((e) => e.id)).toEqual([other]);
      await store.append(x, [{ type: 't', data: { n: 3 } }], { expectedVersion: 'exists' });
      await store.append(x, [{ type: 't', data: { n: 4 } }], { expectedVersion: 'any' });
      const events = await store.readStream(x);
      expect(events.map((e) => e.version)).toEqual([1, 2, 3, 4]);
      expect(events.map((e) => e.event.id).filter((i) => i === id)).toHaveLength(1);
      expect(events[0]!.event).toMatchObject({
        id,
        source: 'suite',
        correlationid: 'corr',
        causationid: 'cause',
        partitionkey: x,
        traceparent: input.traceparent,
      });
    });

    it.skipIf(backend.notApplicable?.kill !== undefined)(
      `atomic 100-event append under a killed connection: 0 or 100 events ${backend.notApplicable?.kill ?? ''}`,
      async () => {
        const store = await w.open();
        const batch = () => Array.from({ length: 100 }, (_, i) => ({ type: 't', data: { n: i } }));
        const counts: number[] = [];
        // Killed while waiting inside the append (on the stream's row lock): nothing stored.
        const held = `kill-${rand()}`;
        await w.killMidAppend!(store, held, batch());
        expect((await store.readStream(held)).length).toBe(0);
        // Killed at random points of running appends: never a part.
        for (let round = 0; round < 20; round++) {
          const stream = `kill-${rand()}`;
          await w.killMidAppend!(store, stream, batch(), Math.random() * 8);
          counts.push((await store.readStream(stream)).length);
        }
        for (const n of counts) expect([0, 100]).toContain(n);
      },
      60_000,
    );

    it.skipIf(backend.notApplicable?.gap !== undefined)(
      `gap: an append held open 2 s is delivered after later commits, never skipped; a rolled-back hole does not stall ${backend.notApplicable?.gap ?? ''}`,
      async () => {
        const store = await w.open();
        const type = `gap.${rand()}`;
        const seen: string[] = [];
        const sub = store
          .subscribe({ name: `gap-${rand()}`, from: 'end', pollIntervalMs: 20 })
          .pipe(
            handle((e) => {
              if (e.type === type) seen.push(e.id);
            }),
          )
          .subscribe();
        cleanup.push(() => sub.unsubscribe());
        // And through a projection runner: the same reader behind it.
        const projected: string[] = [];
        const runner = runProjection(
          projection<Tx>({
            name: `gap-${rand()}`,
            version: 1,
            handlers: { [type]: (e) => void projected.push(e.id) },
          }),
          { store, projections: await w.projections(), pollIntervalMs: 20 },
        );
        cleanup.push(() => runner.stop());
        await sleep(200);
        const slow = await w.holdAppend!(store, `g-${rand()}`, [
          { type, id: `late-${rand()}`, data: { n: 0 } },
        ]);
        const rolled = await w.holdAppend!(store, `g-${rand()}`, [{ type, id: 'rolled', data: { n: 0 } }]);
        await rolled.rollback();
        for (let i = 0; i < 10; i++) await store.append(`g${i}-${rand()}`, [{ type, data: { n: i } }]);
        await sleep(2_000);
        expect(seen).toEqual([]); // held back behind the open transaction, not skipped past it
        expect(projected).toEqual([]);
        await slow.commit();
        await vi.waitFor(() => expect(seen).toHaveLength(11), { timeout: 30_000, interval: 100 });
        expect(seen[0]).toMatch(/^late-/);
        expect(seen).not.toContain('rolled');
        await vi.waitFor(() => expect(projected).toHaveLength(11), { timeout: 30_000, interval: 100 });
        expect(projected).toEqual(seen); // commit order, the late one first
        // The hole left by the rollback does not stall the reader.
        await store.append(`g-${rand()}`, [{ type, id: 'after', data: { n: 0 } }]);
        await vi.waitFor(() => expect(seen).toContain('after'), { timeout: 30_000, interval: 100 });
      },
      90_000,
    );

    it('snapshots every N ∈ {1, 7, 100} equal the full fold over 1 000 random histories', async () => {
      const stores = await Promise.all([0, 1, 2].map(() => w.open()));
      const store = stores[0]!;
      const run = rand();
      const histories = Array.from({ length: 1_000 }, (_, h) => h);
      // 0 to 220 events, appended in 1 to 3 parts, each part checked: snapshots get used, refreshed, crossed.
      await pooled(histories, 12, async (h) => {
        const store = stores[h % stores.length]!;
        const id = `h${h}-${run}`;
        const length = Math.floor(Math.random() * 221);
        for (let done = 0; done < length || done === 0; ) {
          const size = Math.min(Math.max(length - done, 1), 1 + Math.floor(Math.random() * 110));
          if (length > 0) {
            await store.append(
              id,
              Array.from({ length: size }, () => ({
                type: 't',
                data: { n: Math.floor(Math.random() * 100) },
              })),
            );
          }
          done += size;
          const full = await store.aggregate(id, { initial, evolve });
          for (const every of [1, 7, 100]) {
            const snap = await store.aggregate(id, {
              initial,
              evolve,
              snapshotEvery: every,
              name: `n${every}`,
            });
            expect(snap).toEqual(full);
          }
        }
      });
      // A snapshot stamped by other code is ignored.
      const id = `stamp-${rand()}`;
      await store.append(id, [
        { type: 't', data: { n: 1 } },
        { type: 't', data: { n: 2 } },
      ]);
      await store.log.saveSnapshot(id, 'default', {
        version: 2,
        state: { total: 999, count: 2, order: 0 },
        snapshotVersion: 'a',
      });
      const a = await store.aggregate(id, { initial, evolve, snapshotEvery: 1, snapshotVersion: 'a' });
      expect(a.state.total).toBe(999); // its own stamp: used (so the one below is ignored, not missing)
      const b = await store.aggregate(id, { initial, evolve, snapshotEvery: 1, snapshotVersion: 'b' });
      expect(b.state.total).toBe(3);
    }, 300_000);

    it('v1 rows read as v2 through the bus SchemaRegistry: readStream, aggregate, subscription and projection', async () => {
      const type = `order.placed.${rand()}`;
      const v1 = new SchemaRegistry().register(
        type,
        { type: 'object', required: ['amount'] },
        { version: 1 },
      );
      const v2 = new SchemaRegistry()
        .register(type, { type: 'object', required: ['amount', 'currency'] }, { version: 2 })
        .upcast(type, 1, (d) => ({ ...(d as object), currency: 'EUR' }));
      const old = await w.open({ schemas: v1 });
      const start = await old.log.head();
      const stream = `order-${rand()}`;
      await old.append(stream, [{ type, data: { amount: 5 } }]);
      expect((await old.readStream(stream))[0]!.event.extensions.dataversion).toBe('1');
      const store = await w.open({ schemas: v2 });
      await store.append(stream, [{ type, data: { amount: 7, currency: 'USD' } }]);
      const read = await store.readStream(stream);
      expect(read.map((s) => s.event.data)).toEqual([
        { amount: 5, currency: 'EUR' },
        { amount: 7, currency: 'USD' },
      ]);
      expect(read.map((s) => s.event.extensions.dataversion)).toEqual(['2', '2']);
      const { state } = await store.aggregate<string[]>(stream, {
        initial: () => [],
        evolve: (s, e) => [...s, (e.data as { currency: string }).currency],
      });
      expect(state).toEqual(['EUR', 'USD']);
      const delivered: unknown[] = [];
      await new Promise<void>((resolve, reject) =>
        store
          .subscribe({ name: `up-${rand()}`, from: start, stopAtHead: true })
          .pipe(
            handle((e) => {
              if (e.type === type) delivered.push(e.data);
            }),
          )
          .subscribe({ complete: resolve, error: reject }),
      );
      expect(delivered).toEqual([
        { amount: 5, currency: 'EUR' },
        { amount: 7, currency: 'USD' },
      ]);
      const projected: unknown[] = [];
      await rebuildProjection(
        projection<Tx>({
          name: `up-${rand()}`,
          version: 1,
          handlers: { [type]: (e) => void projected.push(e.data) },
        }),
        { store, projections: await w.projections() },
      );
      expect(projected).toEqual(delivered);
    });

    it('asOf(t) equals the fold of the events with time ≤ t (and asOf(version) of the first n)', async () => {
      const store = await w.open();
      const base = Date.parse('2026-01-01T00:00:00.000Z');
      const stream = `t-${rand()}`;
      // Times out of order on purpose: asOf filters by each event's own time.
      const inputs = Array.from({ length: 60 }, (_, i) => ({
        type: 't',
        data: { n: i },
        time: new Date(base + Math.floor(Math.random() * 60) * 1_000),
      }));
      await store.append(stream, inputs.slice(0, 25));
      await store.append(stream, inputs.slice(25));
      const fold = (events: typeof inputs) =>
        events.reduce((s, e) => evolve(s, { data: e.data } as SwitchyardEvent<unknown>), initial);
      for (let k = -1; k <= 60; k += 3) {
        const t = new Date(base + k * 1_000);
        const expected = fold(inputs.filter((e) => e.time.getTime() <= t.getTime()));
        for (const snapshotEvery of [undefined, 7]) {
          const at = await store.aggregate(stream, { initial, evolve, snapshotEvery, asOf: t });
          expect(at.state).toEqual(expected);
          expect((await store.aggregate(stream, { initial, evolve, asOf: t.toISOString() })).state).toEqual(
            expected,
          );
        }
      }
      for (const v of [0, 1, 30, 60]) {
        const at = await store.aggregate(stream, { initial, evolve, snapshotEvery: 7, asOf: v });
        expect(at).toEqual({ state: fold(inputs.slice(0, v)), version: v });
      }
    });

    it('decide: load, decide, append with the loaded version; retried on conflict', async () => {
      const stores = await Promise.all(Array.from({ length: 5 }, () => w.open()));
      const stream = `d-${rand()}`;
      const decide = (s: Totals) => (s.count >= 4 ? [] : [{ type: 't', data: { n: s.count } }]);
      const results = await Promise.all(
        stores.map((store) => store.decide(stream, {}, { initial, evolve, decide, maxAttempts: 10 })),
      );
      // Each command saw the state it decided on: 4 events in all, versions 1..4, none lost.
      expect((await stores[0]!.readStream(stream)).map((e) => (e.event.data as { n: number }).n)).toEqual([
        0, 1, 2, 3,
      ]);
      expect(Math.max(...results.map((r) => r.version))).toBe(4);
    });

    it('subscription through handle(): retry, dead letter with reason, key order by stream id, checkpoint resume', async () => {
      const store = await w.open();
      const type = `sub.${rand()}`;
      const bus = await connect({ url: `memory://es-suite-${rand()}`, source: 'suite' });
      cleanup.push(() => bus.close({ drainTimeoutMs: 1_000 }));
      await bus.provision('dlq', { groups: ['check'] });
      const dead: SwitchyardEvent[] = [];
      const dlq = bus.consume('dlq', { group: 'check', from: 'earliest' }).subscribe((d) => {
        if (d.event) dead.push({ ...d.event });
        void d.ack();
      });
      cleanup.push(() => dlq.unsubscribe());
      const start = await store.log.head(); // the log holds other cases' events: start after them
      const streams = Array.from({ length: 6 }, (_, i) => `k${i}-${rand()}`);
      let n = 0;
      for (let round = 0; round < 10; round++)
        for (const s of streams) await store.append(s, [{ type, data: { n: n++ } }]);
      const flaky = 7; // fails twice, then succeeds on attempt 3
      const poison = 23; // fails for good: dead-lettered, the subscription goes on
      const seen = new Map<string, number[]>();
      const attempts = new Map<number, number[]>();
      const outcomes: Outcome[] = [];
      const name = `sub-${rand()}`;
      const consume = (stopAtHead: boolean) =>
        new Promise<void>((resolve, reject) => {
          const sub: Subscription = store
            .subscribe({ name, from: start, stopAtHead, origin: bus, pollIntervalMs: 20 })
            .pipe(
              handle(
                async (e, ctx) => {
                  if (e.type !== type) return;
                  const v = (e.data as { n: number }).n;
                  attempts.set(v, [...(attempts.get(v) ?? []), ctx.attempt]);
                  await sleep(Math.random() * 3);
                  if (v === poison) throw new NonRetryableError(`bad event ${v}`);
                  if (v === flaky && ctx.attempt < 3) throw new Error(`flaky ${v}`);
                  const key = e.partitionkey!;
                  seen.set(key, [...(seen.get(key) ?? []), v]);
                },
                {
                  concurrency: 8,
                  // Every retry goes back to the subscription (nack with a delay), not waited in process.
                  retry: { maxAttempts: 3, backoff: fixedBackoff(20), inProcessMaxDelayMs: 0 },
                  deadLetter: { topic: 'dlq' },
                },
              ),
            )
            .subscribe({ next: (o) => void outcomes.push(o as Outcome), complete: resolve, error: reject });
          cleanup.push(() => sub.unsubscribe());
        });
      await consume(true);
      expect(attempts.get(flaky)).toEqual([1, 2, 3]);
      expect(attempts.get(poison)).toEqual([1]);
      // Each stream in its own order (key = stream id), whatever the concurrency.
      for (const [key, values] of seen) {
        const expected = Array.from(
          { length: 10 },
          (_, r) => streams.indexOf(key) + r * streams.length,
        ).filter((v) => v !== poison);
        expect(values).toEqual(expected);
      }
      expect([...seen.values()].flat()).toHaveLength(59);
      await vi.waitFor(() => expect(dead).toHaveLength(1), { timeout: 10_000 });
      expect((dead[0]!.data as { n: number }).n).toBe(poison);
      expect(dead[0]!.extensions.deadletterreason).toMatch(/bad event 23/);
      // The checkpoint stands past every settled event: a restart redelivers nothing before it.
      await vi.waitFor(async () => expect((await store.lag(name)).events).toBe(0), { timeout: 10_000 });
      const stream = streams[0]!;
      await store.append(stream, [{ type, data: { n: 1_000 } }]);
      seen.clear();
      await consume(true);
      expect([...seen.values()].flat()).toEqual([1_000]);
    });

    it('projection: rebuild equals live (table hash); a rebuild cannot race the live runner; failover without double apply', async () => {
      const store = await w.open();
      const projections = await w.projections({ lockPollMs: 100 });
      const name = `totals-${rand()}`;
      const type = `p.${rand()}`;
      const [live, rebuilt] = [`${name.replace(/-/g, '_')}_v1`, `${name.replace(/-/g, '_')}_v2`];
      await w.totals.create(live);
      await w.totals.create(rebuilt);
      const append = async (from: number, to: number) => {
        for (let i = from; i < to; i += 5)
          await store.append(
            `s${i % 7}-${name}`,
            Array.from({ length: 5 }, (_, j) => ({ type, data: { n: i + j } })),
          );
      };
      await append(0, 200);
      const a = runProjection(totalsProjection(name, 1, type, live), {
        store,
        projections,
        pollIntervalMs: 10,
      });
      cleanup.push(() => a.stop());
      await vi.waitFor(() => expect(a.status).toBe('active'), { timeout: 10_000 });
      const b = runProjection(totalsProjection(name, 1, type, live), {
        store: await w.open(),
        projections: await w.projections({ lockPollMs: 100 }),
        pollIntervalMs: 10,
      });
      cleanup.push(() => b.stop());
      // Events keep coming while the live one runs.
      const writing = append(200, 400);
      await expect(
        rebuildProjection(totalsProjection(name, 1, type, live), { store, projections }),
      ).rejects.toBeInstanceOf(ProjectionBusyError);
      await writing;
      await applied(w, live, 400);
      expect(b.status).toBe('waiting');
      const result = await rebuildProjection(totalsProjection(name, 2, type, rebuilt), {
        store,
        projections,
      });
      expect(result.events).toBeGreaterThanOrEqual(400);
      expect(await w.totals.read(rebuilt)).toEqual(await w.totals.read(live));
      expect(await projections.active(name)).toBe(2);
      // The active runner stops mid-stream; the waiting one takes over from the last commit.
      const more = append(400, 600);
      await sleep(20);
      await a.stop();
      await more;
      await vi.waitFor(() => expect(b.status).toBe('active'), { timeout: 10_000 });
      await applied(w, live, 600);
      await sleep(100); // and nothing more comes
      const table = await w.totals.read(live);
      expect(table.applied).toBe(600); // each event applied exactly once
      expect(table.sum).toBe((599 * 600) / 2);
    });

    it.skipIf(backend.notApplicable?.sigkill !== undefined)(
      `projection failover: SIGKILL of the runner process → takeover ≤ 5 s, nothing applied twice ${backend.notApplicable?.sigkill ?? ''}`,
      async () => {
        const store = await w.open();
        const name = `kill-${rand()}`;
        const type = `k.${rand()}`;
        const table = `${name.replace(/-/g, '_')}_v1`;
        await w.totals.create(table);
        for (let i = 0; i < 300; i += 10)
          await store.append(
            `s${i % 7}-${name}`,
            Array.from({ length: 10 }, (_, j) => ({ type, data: { n: i + j } })),
          );
        const child = w.spawnRunner!(name, type, table);
        cleanup.push(() => child.kill());
        await child.active;
        const standby = runProjection(totalsProjection(name, 1, type, table), {
          store,
          projections: await w.projections({ lockPollMs: 200 }),
          pollIntervalMs: 10,
        });
        cleanup.push(() => standby.stop());
        await sleep(300);
        expect(standby.status).toBe('waiting');
        const writing = (async () => {
          for (let i = 300; i < 600; i += 10) {
            await store.append(
              `s${i % 7}-${name}`,
              Array.from({ length: 10 }, (_, j) => ({ type, data: { n: i + j } })),
            );
            await sleep(5);
          }
        })();
        await sleep(50);
        child.kill();
        const killed = Date.now();
        await vi.waitFor(() => expect(standby.status).toBe('active'), { timeout: 10_000, interval: 20 });
        const takeover = Date.now() - killed;
        await writing;
        await applied(w, table, 600);
        await sleep(100);
        const totals = await w.totals.read(table);
        expect(totals.applied).toBe(600);
        expect(totals.sum).toBe((599 * 600) / 2);
        expect(takeover).toBeLessThanOrEqual(5_000);
      },
      60_000,
    );

    describe('projection poison event', () => {
      /** 30 events on 3 streams; the handler throws on n = 13 until `heal` is set. */
      async function world(runName: string) {
        const store = await w.open();
        const projections = await w.projections({ lockPollMs: 100 });
        const type = `poison.${rand()}`;
        const table = `${runName.replace(/-/g, '_')}_v1`;
        await w.totals.create(table);
        for (let i = 0; i < 30; i++) await store.append(`s${i % 3}-${runName}`, [{ type, data: { n: i } }]);
        const state = { heal: false, tries: 0 };
        const def = projection<Tx>({
          name: runName,
          version: 1,
          handlers: {
            [type]: async (e, { tx, stored }) => {
              const n = (e.data as { n: number }).n;
              if (n === 13 && !state.heal) {
                state.tries += 1;
                throw new Error(`cannot project ${n}`);
              }
              await w.totals.add(tx, table, stored.streamId, n);
            },
          },
          truncate: (tx) => w.totals.truncate(tx, table),
        });
        return { store, projections, def, table, state, type };
      }

      it("onPoison 'park' (default): retried with backoff, parked with the reason, visible in lag, the projection goes on", async () => {
        const name = `park-${rand()}`;
        const { store, projections, def, table, state } = await world(name);
        const errors: ProjectionErrorInfo[] = [];
        const runner = runProjection(def, {
          store,
          projections,
          pollIntervalMs: 10,
          retry: { maxAttempts: 3, backoff: fixedBackoff(20) },
          onError: (_e, info) => void errors.push(info),
        });
        cleanup.push(() => runner.stop());
        await applied(w, table, 29);
        await runner.caughtUp();
        expect(runner.status).toBe('active');
        expect(state.tries).toBe(3);
        expect(errors.map((e) => e.next)).toEqual(['retry', 'retry', 'park']);
        expect(errors.map((e) => e.attempt)).toEqual([1, 2, 3]);
        expect(runner.parked).toBe(1);
        const parked = await projections.parked(name, 1);
        expect(parked).toHaveLength(1);
        expect(parked[0]).toMatchObject({ name, version: 1, attempts: 3, streamVersion: 5 });
        expect(parked[0]!.reason).toMatch(/cannot project 13/);
        const lag = await runner.lag();
        expect(lag.parked).toBe(1);
        expect(lag.events).toBe(0);
        // Every event but the parked one applied exactly once.
        const totals = await w.totals.read(table);
        expect(totals.applied).toBe(29);
        expect(totals.sum).toBe((29 * 30) / 2 - 13);
      });

      it("onPoison 'stop': the runner halts at the event (status failed, ProjectionHaltedError); a fixed runner resumes there", async () => {
        const name = `stop-${rand()}`;
        const { store, projections, def, table, state } = await world(name);
        const runner = runProjection(def, {
          store,
          projections,
          pollIntervalMs: 10,
          retry: { maxAttempts: 2, backoff: fixedBackoff(10) },
          onPoison: 'stop',
        });
        cleanup.push(() => runner.stop());
        await vi.waitFor(() => expect(runner.status).toBe('failed'), { timeout: 30_000, interval: 20 });
        const error = await runner.caughtUp().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(ProjectionHaltedError);
        expect((error as ProjectionHaltedError).cause).toBeInstanceOf(Error);
        expect((error as Error).message).toMatch(/cannot project 13/);
        expect(runner.status).toBe('failed');
        expect(runner.error).toBe(error);
        expect(state.tries).toBe(2);
        expect(await projections.parked(name, 1)).toEqual([]);
        let totals = await w.totals.read(table);
        expect(totals.applied).toBe(13); // 0..12 once each; nothing of 13 or after
        expect(totals.sum).toBe((12 * 13) / 2);
        expect((await runner.lag()).events).toBeGreaterThan(0); // 13 and after, as far as the head reaches
        // Fixed: a new runner resumes at the halted event, nothing lost, nothing twice.
        state.heal = true;
        const fixed = runProjection(def, { store, projections, pollIntervalMs: 10 });
        cleanup.push(() => fixed.stop());
        await applied(w, table, 30);
        await sleep(100);
        totals = await w.totals.read(table);
        expect(totals.applied).toBe(30);
        expect(totals.sum).toBe((29 * 30) / 2);
      });

      it('a batch handler: the failing event is found one at a time and parked, the others applied once', async () => {
        const name = `batch-${rand()}`;
        const { store, projections, table, type } = await world(name);
        let calls = 0;
        const def = projection<Tx>({
          name,
          version: 1,
          batch: {
            types: [type],
            handle: async (events, { tx }) => {
              calls += 1;
              // Checks before it writes: a memory read model cannot roll a half-written batch back.
              if (events.some((e) => (e.event.data as { n: number }).n === 13))
                throw new Error('cannot project 13');
              for (const e of events)
                await w.totals.add(tx, table, e.streamId, (e.event.data as { n: number }).n);
            },
          },
        });
        const runner = runProjection(def, {
          store,
          projections,
          pollIntervalMs: 10,
          retry: { maxAttempts: 2, backoff: fixedBackoff(10) },
        });
        cleanup.push(() => runner.stop());
        await applied(w, table, 29);
        const parked = await projections.parked(name, 1);
        expect(parked.map((p) => p.streamVersion)).toEqual([5]);
        const totals = await w.totals.read(table);
        expect(totals.applied).toBe(29);
        expect(totals.sum).toBe((29 * 30) / 2 - 13);
        expect(calls).toBeLessThan(40); // one call for the batch, then one per event of it: no retry storm
      });

      it('a rebuild parks poison events too, or rejects without activating under onPoison: stop', async () => {
        const name = `rb-${rand()}`;
        const { store, projections, def, table } = await world(name);
        const retry = { maxAttempts: 1 };
        await expect(
          rebuildProjection(def, { store, projections, retry, onPoison: 'stop' }),
        ).rejects.toBeInstanceOf(ProjectionHaltedError);
        expect(await projections.active(name)).toBeUndefined();
        const result = await rebuildProjection(def, { store, projections, retry });
        expect(result.parked).toBe(1);
        expect(await projections.active(name)).toBe(1);
        expect((await w.totals.read(table)).sum).toBe((29 * 30) / 2 - 13);
      });
    });
  });
}
