// Idempotency contract v2 through handle(): fencing by owner token, lease renewal while a handler
// runs, a lost lease, claim batching and the transactional mode.
import type { Subscription } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { LeaseLostError, UnsupportedOptionError } from '../src/errors.ts';
import type { SwitchyardEvent } from '../src/event.ts';
import { memoryIdempotencyStore } from '../src/idempotency/memory-store.ts';
import type {
  IdempotencyStore,
  SyncIdempotencyStore,
  TransactionalIdempotencyStore,
} from '../src/idempotency/store.ts';
import { type HandleOptions, type Handler, handle } from '../src/policies/handle.ts';
import type { Outcome } from '../src/policies/outcome.ts';
import { countingBus, type SettleRecord, waitFor } from './helpers.ts';

const FINAL = new Set(['acked', 'deadLettered', 'duplicate', 'rejected', 'released']);

/** The memory store, answering only asynchronously (as a database would). */
function asyncOnly(memory: SyncIdempotencyStore): IdempotencyStore {
  return {
    claim: async (key, token, leaseMs) => memory.claim(key, token, leaseMs),
    renew: async (key, token, leaseMs) => memory.renew(key, token, leaseMs),
    complete: async (key, token, ttlMs) => memory.complete(key, token, ttlMs),
    release: async (key, token) => memory.release(key, token),
  };
}

describe('handle() with idempotency contract v2', () => {
  let cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanup.reverse()) await c();
    cleanup = [];
  });

  async function start<T>(handler: Handler<T>, options: HandleOptions) {
    const { bus, records: all } = countingBus('lease');
    const records = () => all.filter((r) => r.topic === 'orders');
    await bus.provision('orders', { groups: ['g'] });
    await bus.provision('orders.dlq', { groups: ['ops'] });
    const outcomes: Outcome<T>[] = [];
    const subscription: Subscription = bus
      .consume<T>('orders', { group: 'g' })
      .pipe(handle(handler, { deadLetter: { topic: 'orders.dlq' }, ...options }))
      .subscribe((o) => outcomes.push(o));
    cleanup.push(async () => {
      subscription.unsubscribe();
      await bus.close({ drainTimeoutMs: 1_000 });
    });
    const finals = () => outcomes.filter((o) => FINAL.has(o.kind));
    return { bus, records, outcomes, finals, subscription };
  }

  const settledOnce = (records: SettleRecord[]) =>
    expect(records.map((r) => r.calls.length)).toEqual(records.map(() => 1));

  for (const mode of ['sync', 'async'] as const) {
    it(`fencing (${mode} store): a handler whose claim another member took is not acked; the other member's mark counts`, async () => {
      const memory = memoryIdempotencyStore();
      const tokens: string[] = [];
      const spied: SyncIdempotencyStore = {
        ...memory.sync,
        claim: (key, token, leaseMs) => {
          tokens.push(token);
          return memory.sync.claim(key, token, leaseMs);
        },
      };
      const store = mode === 'sync' ? { ...asyncOnly(spied), sync: spied } : asyncOnly(spied);
      let calls = 0;
      const { bus, records, outcomes, finals } = await start(
        (event) => {
          calls += 1;
          // Meanwhile this member's lease ran out and another member took the event and finished it.
          const key = `g:${event.id}`;
          memory.sync.release(key, tokens.at(-1)!);
          expect(memory.sync.claim(key, 'other-member', 60_000)).toBe('claimed');
          expect(memory.sync.complete(key, 'other-member', 60_000)).toBe(true);
        },
        { idempotency: { store } },
      );
      await bus.publish('orders', { type: 't', data: 1, key: 'k' });
      await waitFor(() => finals().length === 1, 'final outcome', 5_000);
      expect(calls).toBe(1);
      expect(outcomes.map((o) => o.kind)).toEqual(['retrying', 'duplicate']);
      expect(outcomes[0]!.error).toBeInstanceOf(LeaseLostError);
      expect(new Set(tokens).size).toBe(tokens.length);
      settledOnce(records());
    });
  }

  it("renewal keeps a long handler's claim: no other member gets the key while it runs past its lease", async () => {
    const memory = memoryIdempotencyStore();
    let renewals = 0;
    const store: IdempotencyStore = {
      ...asyncOnly(memory.sync),
      renew: async (key, token, leaseMs) => {
        renewals += 1;
        return memory.sync.renew(key, token, leaseMs);
      },
    };
    const seen: string[] = [];
    const { bus, records, outcomes, finals } = await start(
      async (event) => {
        // Four leases long; another member tries the key now and then.
        for (let i = 0; i < 8; i++) {
          await new Promise((r) => setTimeout(r, 50));
          seen.push(memory.sync.claim(`g:${event.id}`, 'other-member', 100));
        }
      },
      { idempotency: { store, leaseMs: 100 }, timeoutMs: 5_000 },
    );
    await bus.publish('orders', { type: 't', data: 1, key: 'k' });
    await waitFor(() => finals().length === 1, 'final outcome', 5_000);
    expect(outcomes.map((o) => o.kind)).toEqual(['acked']);
    expect(seen.every((answer) => answer === 'busy')).toBe(true);
    expect(renewals).toBeGreaterThanOrEqual(4);
    expect(memory.sync.claim(`g:${outcomes[0]!.event!.id}`, 'later', 100)).toBe('done');
    settledOnce(records());
  });

  it('a lost lease aborts ctx.signal with LeaseLostError and the attempt is given back, never acked', async () => {
    const memory = memoryIdempotencyStore();
    let refuse = true;
    const store: IdempotencyStore = {
      ...asyncOnly(memory.sync),
      // The first attempt's renewal finds another member took the key.
      renew: async (key, token, leaseMs) => (refuse ? false : memory.sync.renew(key, token, leaseMs)),
    };
    const reasons: unknown[] = [];
    const { bus, records, outcomes, finals } = await start(
      async (_event, ctx) => {
        if (ctx.attempt > 1) return;
        await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
        reasons.push(ctx.signal.reason);
        refuse = false;
      },
      { idempotency: { store, leaseMs: 60 }, timeoutMs: 5_000 },
    );
    await bus.publish('orders', { type: 't', data: 1, key: 'k' });
    await waitFor(() => finals().length === 1, 'final outcome', 5_000);
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toBeInstanceOf(LeaseLostError);
    expect(outcomes[0]!.kind).toBe('retrying');
    expect(outcomes[0]!.error).toBeInstanceOf(LeaseLostError);
    expect(outcomes[0]!.delivery.settledAs).toBe('nack');
    expect(outcomes.at(-1)!.kind).toBe('acked');
    expect(outcomes.at(-1)!.attempt).toBeGreaterThan(1);
    settledOnce(records());
  });

  it('batching: the claims and completions of a prefetch window go in a few round trips, not one per event', async () => {
    const memory = memoryIdempotencyStore();
    const trips = { claim: 0, claimMany: 0, complete: 0, completeMany: 0, entries: 0 };
    const store: IdempotencyStore = {
      ...asyncOnly(memory.sync),
      claim: async (key, token, leaseMs) => {
        trips.claim += 1;
        return memory.sync.claim(key, token, leaseMs);
      },
      complete: async (key, token, ttlMs) => {
        trips.complete += 1;
        return memory.sync.complete(key, token, ttlMs);
      },
      claimMany: async (claims, leaseMs) => {
        trips.claimMany += 1;
        trips.entries += claims.length;
        return claims.map((c) => memory.sync.claim(c.key, c.token, leaseMs));
      },
      completeMany: async (entries, ttlMs) => {
        trips.completeMany += 1;
        return entries.map((c) => memory.sync.complete(c.key, c.token, ttlMs));
      },
    };
    const { bus, finals } = await start(() => {}, { idempotency: { store }, concurrency: 16 });
    await bus.publishBatch(
      'orders',
      Array.from({ length: 64 }, (_, i) => ({ type: 't', data: i, key: `k${i}` })),
    );
    await waitFor(() => finals().length === 64, 'all acked', 5_000);
    expect(finals().every((o) => o.kind === 'acked')).toBe(true);
    const claimTrips = trips.claim + trips.claimMany;
    const completeTrips = trips.complete + trips.completeMany;
    expect(trips.entries + trips.claim).toBe(64);
    expect(claimTrips).toBeLessThanOrEqual(16);
    expect(completeTrips).toBeLessThanOrEqual(16);
  });

  it('transactional: the handler gets ctx.tx, ctx.publish goes to the transaction, a throw rolls back both', async () => {
    // An in-process transactional store: a transaction is a buffer of writes applied at commit.
    interface FakeTx {
      readonly writes: string[];
      readonly outbox: Array<{ topic: string; event: SwitchyardEvent }>;
    }
    const done = new Set<string>();
    const committed: string[] = [];
    const sent: Array<{ topic: string; event: SwitchyardEvent }> = [];
    const memory = memoryIdempotencyStore();
    const store: TransactionalIdempotencyStore<FakeTx> = {
      ...asyncOnly(memory.sync),
      async transaction(key, _ttlMs, work) {
        if (done.has(key)) return { status: 'duplicate' };
        const tx: FakeTx = { writes: [], outbox: [] };
        const value = await work(tx); // a throw: nothing of tx is applied
        done.add(key);
        committed.push(...tx.writes);
        sent.push(...tx.outbox);
        return { status: 'done', value };
      },
      async publishInTransaction(tx, topic, event) {
        tx.outbox.push({ topic, event });
      },
    };
    const { bus, outcomes, finals } = await start<number>(
      async (event, ctx) => {
        const tx = ctx.tx as FakeTx;
        tx.writes.push(`row ${event.data} attempt ${ctx.attempt}`);
        await ctx.publish('orders.followup', { type: 'followup', data: event.data });
        if (ctx.attempt === 1) throw new Error('first attempt fails after writing');
      },
      { idempotency: { store, transactional: true }, retry: { maxAttempts: 3, backoff: () => 1 } },
    );
    await bus.publish('orders', { type: 't', id: 'e1', data: 7, key: 'k' });
    await bus.publish('orders', { type: 't', id: 'e1', data: 7, key: 'k' });
    await waitFor(() => finals().length === 2, 'two finals', 5_000);
    expect(outcomes.map((o) => o.kind)).toEqual(['retrying', 'acked', 'duplicate']);
    expect(committed).toEqual(['row 7 attempt 2']);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.topic).toBe('orders.followup');
    expect(sent[0]!.event.causationid).toBe('e1');
    expect(sent[0]!.event.source).toBe('test');
  });

  it('transactional with a store that has no transaction() is refused when handle() is called', () => {
    expect(() =>
      handle(() => {}, { idempotency: { store: memoryIdempotencyStore(), transactional: true } }),
    ).toThrow(UnsupportedOptionError);
  });
});
