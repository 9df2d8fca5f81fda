import { afterEach, describe, expect, it, vi } from 'vitest';
import { memoryIdempotencyStore } from '../src/idempotency/memory-store.ts';
import type { IdempotencyStore } from '../src/idempotency/store.ts';
import { idempotent } from '../src/policies/idempotent.ts';
import { prng } from './helpers.ts';

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

describe('memoryIdempotencyStore, against a plain model', () => {
  it('answers and evicts as a write-ordered map would, over many random calls', () => {
    const random = prng(7);
    const maxEntries = 50;
    const store = memoryIdempotencyStore({ maxEntries });
    // The model: insertion order is write order; the oldest write goes first.
    const model = new Map<string, 'pending' | 'done'>();
    const write = (key: string, state: 'pending' | 'done') => {
      model.delete(key);
      model.set(key, state);
      while (model.size > maxEntries) model.delete(model.keys().next().value as string);
    };
    for (let i = 0; i < 20_000; i++) {
      const key = `k${Math.floor(random() * 120)}`;
      const op = random();
      if (op < 0.5) {
        const expected = model.has(key) ? (model.get(key) === 'done' ? 'done' : 'busy') : 'claimed';
        if (expected === 'claimed') write(key, 'pending');
        expect(store.sync.claim(key, 60_000), `call ${i}`).toBe(expected);
      } else if (op < 0.8) {
        write(key, 'done');
        store.sync.complete(key, 60_000);
      } else {
        if (model.get(key) === 'pending') model.delete(key);
        store.sync.release(key);
      }
      expect(store.size, `call ${i}`).toBe(model.size);
    }
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
