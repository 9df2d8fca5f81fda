// Idempotency contract v2 through handle(): fencing by owner token, lease renewal while a handler
// runs, a lost lease, claim batching and the transactional mode.
import type { Subscription } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { LeaseLostError } from '../src/errors.ts';
import { memoryIdempotencyStore } from '../src/idempotency/memory-store.ts';
import type { IdempotencyStore, SyncIdempotencyStore } from '../src/idempotency/store.ts';
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
});
