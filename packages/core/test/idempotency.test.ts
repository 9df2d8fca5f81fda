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
    expect(await store.claim('a', 'T', 60_000)).toBe('claimed');
    expect(await store.claim('a', 'T', 60_000)).toBe('busy');
    await store.release('a', 'T');
    expect(await store.claim('a', 'T', 60_000)).toBe('claimed');
    await store.complete('a', 'T', 60_000);
    expect(await store.claim('a', 'T', 60_000)).toBe('done');
    // release only drops a pending claim, never a completed one.
    await store.release('a', 'T');
    expect(await store.claim('a', 'T', 60_000)).toBe('done');
    expect(await store.claim('b', 'T', 60_000)).toBe('claimed');
  });

  it('a claim lasts leaseMs, a completion lasts its ttl', async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const store = memoryIdempotencyStore({ ttlMs: 10_000 });
    expect(store.ttlMs).toBe(10_000);
    expect(await store.claim('lease', 'T', 1_000)).toBe('claimed');
    vi.setSystemTime(1_000_999);
    expect(await store.claim('lease', 'T', 1_000)).toBe('busy');
    vi.setSystemTime(1_001_000);
    // The holder is presumed dead: someone else may take it.
    expect(await store.claim('lease', 'T', 1_000)).toBe('claimed');

    vi.setSystemTime(2_000_000);
    await store.claim('ttl', 'T', 1_000);
    await store.complete('ttl', 'T', 5_000);
    vi.setSystemTime(2_004_999);
    expect(await store.claim('ttl', 'T', 1_000)).toBe('done');
    vi.setSystemTime(2_005_000);
    expect(await store.claim('ttl', 'T', 1_000)).toBe('claimed');
  });

  it('keeps at most maxEntries, forgetting the least recently written first', async () => {
    const store = memoryIdempotencyStore({ maxEntries: 3 });
    for (const key of ['a', 'b', 'c']) {
      await store.claim(key, 'T', 60_000);
      await store.complete(key, 'T', 60_000);
    }
    await store.complete('a', 'T', 60_000); // rewritten: now the newest
    await store.claim('d', 'T', 60_000); // evicts b, the oldest write
    expect(store.size).toBe(3);
    expect(await store.claim('a', 'T', 60_000)).toBe('done');
    expect(await store.claim('c', 'T', 60_000)).toBe('done');
    expect(await store.claim('b', 'T', 60_000)).toBe('claimed');
    expect(store.size).toBe(3);
  });
});

describe('memoryIdempotencyStore, against a plain model', () => {
  it('answers, fences and evicts as a write-ordered map would, over many random calls by two owners', () => {
    const random = prng(7);
    const maxEntries = 50;
    const store = memoryIdempotencyStore({ maxEntries });
    // The model: insertion order is write order; the oldest write goes first. No lease expires here.
    const model = new Map<string, { state: 'pending' | 'done'; token: string }>();
    const write = (key: string, state: 'pending' | 'done', token: string) => {
      model.delete(key);
      model.set(key, { state, token });
      while (model.size > maxEntries) model.delete(model.keys().next().value as string);
    };
    for (let i = 0; i < 20_000; i++) {
      const key = `k${Math.floor(random() * 120)}`;
      const token = random() < 0.5 ? 'A' : 'B';
      const entry = model.get(key);
      const op = random();
      if (op < 0.4) {
        const expected = entry ? (entry.state === 'done' ? 'done' : 'busy') : 'claimed';
        if (expected === 'claimed') write(key, 'pending', token);
        expect(store.sync.claim(key, token, 60_000), `call ${i}`).toBe(expected);
      } else if (op < 0.55) {
        const expected = entry === undefined || (entry.state === 'pending' && entry.token === token);
        if (expected) write(key, 'pending', token);
        expect(store.sync.renew(key, token, 60_000), `call ${i}`).toBe(expected);
      } else if (op < 0.8) {
        const expected = entry === undefined || entry.token === token;
        if (expected) write(key, 'done', token);
        expect(store.sync.complete(key, token, 60_000), `call ${i}`).toBe(expected);
      } else {
        if (entry?.state === 'pending' && entry.token === token) model.delete(key);
        store.sync.release(key, token);
      }
      expect(store.size, `call ${i}`).toBe(model.size);
    }
  });
});

describe('memoryIdempotencyStore, fencing (contract v2)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a stale owner can neither complete, renew nor release the claim of the member that took the key after its lease', async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const store = memoryIdempotencyStore();
    expect(await store.claim('k', 'old', 1_000)).toBe('claimed');
    vi.setSystemTime(1_001_000); // the old owner's lease ran out
    expect(await store.claim('k', 'new', 1_000)).toBe('claimed');
    expect(await store.complete('k', 'old', 60_000)).toBe(false);
    expect(await store.renew('k', 'old', 1_000)).toBe(false);
    await store.release('k', 'old');
    // The new owner's claim stands: nobody else gets in, and it completes.
    expect(await store.claim('k', 'third', 1_000)).toBe('busy');
    expect(await store.complete('k', 'new', 60_000)).toBe(true);
    expect(await store.claim('k', 'third', 1_000)).toBe('done');
  });

  it('an owner whose lease ran out but whom nobody replaced may still renew and complete', async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const store = memoryIdempotencyStore();
    expect(await store.claim('k', 'a', 1_000)).toBe('claimed');
    vi.setSystemTime(1_002_000);
    expect(await store.renew('k', 'a', 1_000)).toBe(true);
    expect(await store.claim('k', 'b', 1_000)).toBe('busy');
    vi.setSystemTime(1_004_000);
    expect(await store.complete('k', 'a', 60_000)).toBe(true);
    expect(await store.claim('k', 'b', 1_000)).toBe('done');
  });

  it('renewing keeps a claim past its first lease; a done mark cannot be renewed', async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const store = memoryIdempotencyStore();
    await store.claim('k', 'a', 1_000);
    vi.setSystemTime(1_000_600);
    expect(await store.renew('k', 'a', 1_000)).toBe(true);
    vi.setSystemTime(1_001_200); // past the first lease, within the renewed one
    expect(await store.claim('k', 'b', 1_000)).toBe('busy');
    await store.complete('k', 'a', 60_000);
    expect(await store.renew('k', 'a', 1_000)).toBe(false);
  });

  it('claimMany and completeMany answer in the order given, as single calls would', async () => {
    const store = memoryIdempotencyStore();
    await store.claim('b', 'x', 60_000);
    await store.claim('c', 'x', 60_000);
    await store.complete('c', 'x', 60_000);
    const claims = ['a', 'b', 'c'].map((key) => ({ key, token: 'y' }));
    expect(await store.claimMany(claims, 60_000)).toEqual(['claimed', 'busy', 'done']);
    expect(await store.completeMany(claims, 60_000)).toEqual([true, false, false]);
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
    await store.claim('k', 'T', 60_000);
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
      renew: async () => true,
      complete: async (key, _token, ttl) => {
        calls.push([key, ttl]);
        return true;
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
