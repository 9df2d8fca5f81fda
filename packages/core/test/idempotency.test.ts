import { afterEach, describe, expect, it, vi } from 'vitest';
import { memoryIdempotencyStore } from '../src/idempotency/memory-store.ts';
import type { IdempotencyStore } from '../src/idempotency/store.ts';
import { idempotent } from '../src/policies/idempotent.ts';

describe('memoryIdempotencyStore', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('claim → busy while claimed → done once completed; release lets the next claim through', async () => {
    const store = memoryIdempotencyStore();
    expect(await store.claim('a', 60_000)).toBe('claimed');
    expect(await store.claim('a', 60_000)).toBe('busy');
    await store.release('a');
    expect(await store.claim('a', 60_000)).toBe('claimed');
    await store.complete('a', 60_000);
    expect(await store.claim('a', 60_000)).toBe('done');
    // release only drops a pending claim, never a completed one.
    await store.release('a');
    expect(await store.claim('a', 60_000)).toBe('done');
    expect(await store.claim('b', 60_000)).toBe('claimed');
  });

  it('a claim lasts leaseMs, a completion lasts its ttl', async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const store = memoryIdempotencyStore({ ttlMs: 10_000 });
    expect(store.ttlMs).toBe(10_000);
    expect(await store.claim('lease', 1_000)).toBe('claimed');
    vi.setSystemTime(1_000_999);
    expect(await store.claim('lease', 1_000)).toBe('busy');
    vi.setSystemTime(1_001_000);
    // The holder is presumed dead: someone else may take it.
    expect(await store.claim('lease', 1_000)).toBe('claimed');

    vi.setSystemTime(2_000_000);
    await store.claim('ttl', 1_000);
    await store.complete('ttl', 5_000);
    vi.setSystemTime(2_004_999);
    expect(await store.claim('ttl', 1_000)).toBe('done');
    vi.setSystemTime(2_005_000);
    expect(await store.claim('ttl', 1_000)).toBe('claimed');
  });

  it('keeps at most maxEntries, forgetting the least recently written first', async () => {
    const store = memoryIdempotencyStore({ maxEntries: 3 });
    for (const key of ['a', 'b', 'c']) {
      await store.claim(key, 60_000);
      await store.complete(key, 60_000);
    }
    await store.complete('a', 60_000); // rewritten: now the newest
    await store.claim('d', 60_000); // evicts b, the oldest write
    expect(store.size).toBe(3);
    expect(await store.claim('a', 60_000)).toBe('done');
    expect(await store.claim('c', 60_000)).toBe('done');
    expect(await store.claim('b', 60_000)).toBe('claimed');
    expect(store.size).toBe(3);
  });
});

describe('idempotent()', () => {
  it('runs the work once per key and reports later calls as duplicates', async () => {
    const store = memoryIdempotencyStore();
    const work = vi.fn(async () => 'value');
    expect(await idempotent({ store }, 'k', 1_000, work)).toEqual({ status: 'done', value: 'value' });
    expect(await idempotent({ store }, 'k', 1_000, work)).toEqual({ status: 'duplicate' });
    expect(work).toHaveBeenCalledTimes(1);
  });

  it('reports busy while another holder has a live claim, without running the work', async () => {
    const store = memoryIdempotencyStore();
    await store.claim('k', 60_000);
    const work = vi.fn(async () => 1);
    expect(await idempotent({ store }, 'k', 1_000, work)).toEqual({ status: 'busy' });
    expect(work).not.toHaveBeenCalled();
  });

  it('releases the claim when the work fails, so a retry runs it', async () => {
    const store = memoryIdempotencyStore();
    const error = new Error('fail');
    await expect(idempotent({ store }, 'k', 60_000, () => Promise.reject(error))).rejects.toBe(error);
    expect(await idempotent({ store }, 'k', 60_000, async () => 'second')).toEqual({
      status: 'done',
      value: 'second',
    });
  });

  it('completes with options.ttlMs, else the store ttlMs, else 24 h', async () => {
    const calls: Array<[string, number]> = [];
    const spy = (ttlMs?: number): IdempotencyStore & { ttlMs?: number } => ({
      ...(ttlMs === undefined ? {} : { ttlMs }),
      claim: async () => 'claimed',
      complete: async (key, ttl) => {
        calls.push([key, ttl]);
      },
      release: async () => {},
    });
    await idempotent({ store: spy(5_000), ttlMs: 7_000 }, 'a', 1_000, async () => 0);
    await idempotent({ store: spy(5_000) }, 'b', 1_000, async () => 0);
    await idempotent({ store: spy() }, 'c', 1_000, async () => 0);
    expect(calls).toEqual([
      ['a', 7_000],
      ['b', 5_000],
      ['c', 86_400_000],
    ]);
  });
});
