import { handle, SchemaRegistry } from '@switchyard/core';
import { describe, expect, it } from 'vitest';
import {
  ConcurrencyError,
  MemoryProjectionStore,
  memoryEventStore,
  ProjectionBusyError,
  projection,
  rebuildProjection,
  runProjection,
} from '../src/index.ts';

type Counter = { total: number; count: number };
const evolve = (s: Counter, e: { data: unknown }) => ({
  total: s.total + (e.data as { n: number }).n,
  count: s.count + 1,
});

describe('memory event store', () => {
  it('8 appenders with the same expected version: exactly 1 wins, no holes', async () => {
    const store = memoryEventStore();
    await store.append('s', [{ type: 't', data: { n: 1 } }], { expectedVersion: 'no_stream' });
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) =>
        store.append('s', [{ type: 't', data: { n: i } }], { expectedVersion: 1 }),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(ConcurrencyError);
    expect((await store.readStream('s')).map((s) => s.version)).toEqual([1, 2]);
  });

  it('no_stream / exists / any, and the same event id stored once', async () => {
    const store = memoryEventStore();
    await expect(store.append('x', [{ type: 't' }], { expectedVersion: 'exists' })).rejects.toBeInstanceOf(
      ConcurrencyError,
    );
    await store.append('x', [{ type: 't', id: 'a' }], { expectedVersion: 'no_stream' });
    await expect(store.append('x', [{ type: 't' }], { expectedVersion: 'no_stream' })).rejects.toBeInstanceOf(
      ConcurrencyError,
    );
    await store.append('x', [{ type: 't', id: 'a' }], { expectedVersion: 0 }); // a retried append
    await store.append('x', [{ type: 't' }], { expectedVersion: 'any' });
    const events = await store.readStream('x');
    expect(events.map((e) => e.event.id).filter((id) => id === 'a')).toHaveLength(1);
    expect(events[0]!.event.partitionkey).toBe('x');
    expect(events[0]!.event.source).toBe('event-store');
  });

  it('snapshots every N ∈ {1, 7, 100} equal the full fold over 1 000 random histories', async () => {
    const store = memoryEventStore();
    for (let h = 0; h < 1_000; h++) {
      const id = `h${h}`;
      const n = Math.floor(Math.random() * 250);
      for (let done = 0; done < n; ) {
        const size = Math.min(n - done, 1 + Math.floor(Math.random() * 20));
        await store.append(
          id,
          Array.from({ length: size }, () => ({ type: 't', data: { n: Math.floor(Math.random() * 100) } })),
        );
        done += size;
        const every = [1, 7, 100][h % 3]!;
        const snap = await store.aggregate(id, {
          initial: { total: 0, count: 0 },
          evolve,
          snapshotEvery: every,
        });
        const full = await store.aggregate(id, { initial: { total: 0, count: 0 }, evolve });
        expect(snap).toEqual(full);
      }
    }
  });

  it('a snapshot with another stamp is ignored', async () => {
    const store = memoryEventStore();
    await store.append('s', [
      { type: 't', data: { n: 1 } },
      { type: 't', data: { n: 2 } },
    ]);
    await store.aggregate('s', {
      initial: { total: 0, count: 0 },
      evolve,
      snapshotEvery: 1,
      snapshotVersion: 'a',
    });
    await store.log.saveSnapshot('s', 'default', {
      version: 2,
      state: { total: 999, count: 2 },
      snapshotVersion: 'a',
    });
    const b = await store.aggregate('s', {
      initial: { total: 0, count: 0 },
      evolve,
      snapshotEvery: 1,
      snapshotVersion: 'b',
    });
    expect(b.state.total).toBe(3);
  });

  it('v1 rows read as v2 through the schema registry', async () => {
    const store = memoryEventStore();
    await store.append('s', [{ type: 'order.placed', data: { amount: 5 } }]); // written before v2 existed
    const schemas = new SchemaRegistry().upcast('order.placed', 1, (d) => ({
      ...(d as object),
      currency: 'EUR',
    }));
    const v2 = memoryEventStore({ schemas });
    await v2.log.append(
      's',
      (await store.log.readStream('s', {})).map((s) => s.event),
      'any',
    );
    const [read] = await v2.readStream('s');
    expect(read!.event.data).toEqual({ amount: 5, currency: 'EUR' });
    expect(read!.event.extensions.dataversion).toBe('2');
  });

  it('asOf(t) equals the fold of events with time ≤ t', async () => {
    const store = memoryEventStore();
    const base = Date.parse('2026-01-01T00:00:00.000Z');
    await store.append(
      's',
      Array.from({ length: 50 }, (_, i) => ({ type: 't', data: { n: i }, time: new Date(base + i * 1000) })),
    );
    for (const k of [0, 10, 49]) {
      const t = new Date(base + k * 1000);
      const at = await store.aggregate('s', {
        initial: { total: 0, count: 0 },
        evolve,
        snapshotEvery: 7,
        asOf: t,
      });
      expect(at.state).toEqual({ total: (k * (k + 1)) / 2, count: k + 1 });
    }
  });

  it('decide retries on conflict', async () => {
    const store = memoryEventStore();
    const decide = () => [{ type: 't', data: { n: 1 } }];
    await Promise.all(
      Array.from({ length: 5 }, () =>
        store.decide('d', {}, { initial: { total: 0, count: 0 }, evolve, decide, maxAttempts: 10 }),
      ),
    );
    expect((await store.aggregate('d', { initial: { total: 0, count: 0 }, evolve })).state.count).toBe(5);
  });

  it('subscription: handle() settles each delivery once; the checkpoint resumes after the acked ones', async () => {
    const store = memoryEventStore();
    for (let i = 0; i < 20; i++) await store.append(`s${i % 3}`, [{ type: 't', data: { n: i } }]);
    const seen: number[] = [];
    await new Promise<void>((resolve, reject) =>
      store
        .subscribe({ name: 'sub', stopAtHead: true })
        .pipe(handle((e) => void seen.push((e.data as { n: number }).n), { concurrency: 4 }))
        .subscribe({ complete: resolve, error: reject }),
    );
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    await new Promise((r) => setTimeout(r, 50));
    expect((await store.lag('sub')).events).toBe(0);
  });

  it('projection: rebuild equals live; a rebuild cannot race the live runner; one runner active', async () => {
    const store = memoryEventStore();
    const projections = new MemoryProjectionStore();
    const tables = new Map<number, Map<string, number>>();
    const def = (version: number) =>
      projection<undefined>({
        name: 'totals',
        version,
        handlers: {
          t: (e, { version: v, stored }) => {
            const t = tables.get(v) ?? new Map<string, number>();
            tables.set(v, t);
            t.set(stored.streamId, (t.get(stored.streamId) ?? 0) + (e.data as { n: number }).n);
          },
        },
        truncate: (_tx, { version: v }) => void tables.set(v, new Map()),
      });
    for (let i = 0; i < 100; i++) await store.append(`s${i % 7}`, [{ type: 't', data: { n: i } }]);
    const a = runProjection(def(1), { store, projections, pollIntervalMs: 10 });
    const b = runProjection(def(1), { store, projections, pollIntervalMs: 10 });
    await a.caughtUp();
    expect([a.status, b.status].sort()).toEqual(['active', 'waiting']);
    await expect(rebuildProjection(def(1), { store, projections })).rejects.toBeInstanceOf(
      ProjectionBusyError,
    );
    await rebuildProjection(def(2), { store, projections });
    expect([...tables.get(2)!].sort()).toEqual([...tables.get(1)!].sort());
    expect(await projections.active('totals')).toBe(2);
    await a.stop(); // failover: b takes over from the checkpoint, nothing applied twice
    for (let i = 100; i < 120; i++) await store.append(`s${i % 7}`, [{ type: 't', data: { n: i } }]);
    await b.caughtUp();
    const sum = [...tables.get(1)!.values()].reduce((x, y) => x + y, 0);
    expect(sum).toBe((119 * 120) / 2);
    await b.stop();
  });
});
