// keyOrdered runs items through Promises and real timers, so RxJS TestScheduler marbles (virtual time,
// synchronous frames) cannot observe it; deferreds, fake timers and seeded random runs are used instead.
import { Subject, type Subscription } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type KeyOrderedOptions, keyOrdered, type Step } from '../src/policies/key-ordered.ts';
import { type Deferred, deferred, prng, turns, waitFor } from './helpers.ts';

interface Item {
  readonly id: string;
  readonly key?: string | undefined;
}
interface Out {
  readonly id: string;
  readonly kind: 'ok' | 'retry' | 'park' | 'released';
  readonly attempt: number;
}

/** A keyOrdered run where each attempt waits for the test to finish it. */
function controlled(concurrency: number, overrides: Partial<KeyOrderedOptions<Item, Out>> = {}) {
  const source = new Subject<Item>();
  const started: Array<{ id: string; attempt: number; finish: Deferred<Step<Out>> }> = [];
  const outcomes: Out[] = [];
  const released: string[] = [];
  let completed = false;
  let closing = false;
  const subscription: Subscription = source
    .pipe(
      keyOrdered<Item, Out>({
        concurrency,
        keyOf: (i) => i.key,
        idOf: (i) => i.id,
        firstAttempt: () => 1,
        run: (item, attempt) => {
          const finish = deferred<Step<Out>>();
          started.push({ id: item.id, attempt, finish });
          return finish.promise;
        },
        shouldRelease: () => closing,
        release: async (item) => {
          released.push(item.id);
          return { id: item.id, kind: 'released', attempt: 0 };
        },
        ...overrides,
      }),
    )
    .subscribe({ next: (o) => outcomes.push(o), complete: () => (completed = true) });
  const running = (id: string) => {
    const found = [...started].reverse().find((s) => s.id === id);
    if (!found) throw new Error(`${id} has not started`);
    return found;
  };
  const done = async (id: string) => {
    const s = running(id);
    s.finish.resolve({ outcomes: [{ id, kind: 'ok', attempt: s.attempt }], next: { kind: 'done' } });
    await turns(2);
  };
  return {
    source,
    started,
    outcomes,
    released,
    subscription,
    done,
    running,
    ids: () => started.map((s) => s.id),
    completed: () => completed,
    close: () => {
      closing = true;
    },
  };
}

describe('keyOrdered', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs at most `concurrency` items, and one item per key at a time, in arrival order', async () => {
    const k = controlled(2);
    for (const [id, key] of [
      ['a1', 'A'],
      ['a2', 'A'],
      ['b1', 'B'],
      ['c1', 'C'],
      ['a3', 'A'],
    ])
      k.source.next({ id: id!, key });
    await turns();
    expect(k.ids()).toEqual(['a1', 'b1']);
    await k.done('a1');
    expect(k.ids()).toEqual(['a1', 'b1', 'c1']);
    await k.done('c1');
    expect(k.ids()).toEqual(['a1', 'b1', 'c1', 'a2']);
    await k.done('b1');
    await k.done('a2');
    expect(k.ids()).toEqual(['a1', 'b1', 'c1', 'a2', 'a3']);
    await k.done('a3');
    k.source.complete();
    await turns();
    expect(k.completed()).toBe(true);
    expect(k.outcomes.map((o) => o.id)).toEqual(['a1', 'c1', 'b1', 'a2', 'a3']);
  });

  it('runs items without a key concurrently', async () => {
    const k = controlled(3);
    for (const id of ['x', 'y', 'z', 'w']) k.source.next({ id });
    await turns();
    expect(k.ids()).toEqual(['x', 'y', 'z']);
  });

  it('retries in place: the key waits, other keys use the freed slot, the retry goes first', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const k = controlled(1);
    k.source.next({ id: 'a1', key: 'A' });
    k.source.next({ id: 'a2', key: 'A' });
    k.source.next({ id: 'b1', key: 'B' });
    k.source.next({ id: 'c1', key: 'C' });
    await vi.advanceTimersByTimeAsync(0);
    k.running('a1').finish.resolve({
      outcomes: [{ id: 'a1', kind: 'retry', attempt: 1 }],
      next: { kind: 'again', delayMs: 3_600_000 },
    });
    await vi.advanceTimersByTimeAsync(0);
    // With concurrency 1 and A waiting an hour, B and C still run: a waiting item holds no slot.
    expect(k.ids()).toEqual(['a1', 'b1']);
    await k.done('b1');
    await vi.advanceTimersByTimeAsync(0);
    expect(k.ids()).toEqual(['a1', 'b1', 'c1']);
    await k.done('c1');
    await vi.advanceTimersByTimeAsync(3_599_000);
    expect(k.ids()).toEqual(['a1', 'b1', 'c1']);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(k.started.map((s) => [s.id, s.attempt])).toEqual([
      ['a1', 1],
      ['b1', 1],
      ['c1', 1],
      ['a1', 2],
    ]);
    await k.done('a1');
    await vi.advanceTimersByTimeAsync(0);
    expect(k.ids().at(-1)).toBe('a2');
  });

  it('parks a key after a broker retry until the item comes back, which then runs first', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const k = controlled(4);
    k.source.next({ id: 'a1', key: 'A' });
    await vi.advanceTimersByTimeAsync(0);
    k.running('a1').finish.resolve({
      outcomes: [{ id: 'a1', kind: 'park', attempt: 1 }],
      next: { kind: 'park', id: 'a1', holdMs: 60_000 },
    });
    await vi.advanceTimersByTimeAsync(0);
    k.source.next({ id: 'a2', key: 'A' });
    k.source.next({ id: 'b1', key: 'B' });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(k.ids()).toEqual(['a1', 'b1']);
    k.source.next({ id: 'a1', key: 'A' }); // the broker redelivers it
    await vi.advanceTimersByTimeAsync(0);
    expect(k.ids()).toEqual(['a1', 'b1', 'a1']);
    await k.done('a1');
    expect(k.ids()).toEqual(['a1', 'b1', 'a1', 'a2']);
  });

  it('stops holding a parked key after holdMs when the item does not come back', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const k = controlled(4);
    k.source.next({ id: 'a1', key: 'A' });
    await vi.advanceTimersByTimeAsync(0);
    k.running('a1').finish.resolve({ outcomes: [], next: { kind: 'park', id: 'a1', holdMs: 5_000 } });
    k.source.next({ id: 'a2', key: 'A' });
    await vi.advanceTimersByTimeAsync(4_999);
    expect(k.ids()).toEqual(['a1']);
    await vi.advanceTimersByTimeAsync(1);
    expect(k.ids()).toEqual(['a1', 'a2']);
  });

  it('on completion of the source gives back the followers of a parked key, then completes', async () => {
    const k = controlled(4);
    k.source.next({ id: 'a1', key: 'A' });
    await turns();
    k.running('a1').finish.resolve({ outcomes: [], next: { kind: 'park', id: 'a1', holdMs: 60_000 } });
    k.source.next({ id: 'a2', key: 'A' });
    k.source.next({ id: 'a3', key: 'A' });
    await turns();
    k.source.complete();
    await turns();
    expect(k.released).toEqual(['a2', 'a3']);
    expect(k.completed()).toBe(true);
  });

  it('when closing, gives back what has not started and what waits for a retry; lets running items finish', async () => {
    const k = controlled(1);
    k.source.next({ id: 'a1', key: 'A' });
    k.source.next({ id: 'b1', key: 'B' });
    k.source.next({ id: 'c1', key: 'C' });
    await turns();
    k.running('a1').finish.resolve({ outcomes: [], next: { kind: 'again', delayMs: 60_000 } });
    await turns();
    expect(k.ids()).toEqual(['a1', 'b1']);
    k.close();
    k.source.complete();
    await turns();
    // c1 waits for a slot that b1 may hold until the drain deadline: it is given back at once too.
    expect(k.released.sort()).toEqual(['a1', 'c1']);
    expect(k.completed()).toBe(false);
    await k.done('b1');
    expect(k.completed()).toBe(true);
    expect(k.ids()).toEqual(['a1', 'b1']);
  });

  it('on unsubscribe gives back what has not started and what waits for a retry, not what is running', async () => {
    const k = controlled(1);
    k.source.next({ id: 'a1', key: 'A' });
    k.source.next({ id: 'b1', key: 'B' });
    k.source.next({ id: 'b2', key: 'B' });
    k.source.next({ id: 'c1', key: 'C' });
    await turns();
    k.running('a1').finish.resolve({ outcomes: [], next: { kind: 'again', delayMs: 60_000 } });
    await turns();
    expect(k.ids()).toEqual(['a1', 'b1']);
    k.subscription.unsubscribe();
    await turns();
    // b1 is in its handler: it settles itself when done (giving it back now would have it redelivered
    // while it still runs).
    expect(k.released.sort()).toEqual(['a1', 'b2', 'c1']);
    await waitFor(() => k.source.observed === false, 'source unsubscribed');
  });

  it('on unsubscribe gives back a running item whose attempt then asks for another one', async () => {
    const k = controlled(1);
    k.source.next({ id: 'a1', key: 'A' });
    await turns();
    k.subscription.unsubscribe();
    await turns();
    expect(k.released).toEqual([]);
    k.running('a1').finish.resolve({ outcomes: [], next: { kind: 'again', delayMs: 10 } });
    await turns();
    expect(k.released).toEqual(['a1']);
    expect(k.ids()).toEqual(['a1']);
  });
});

describe('keyOrdered, random runs', () => {
  it('keeps per-key order, the concurrency bound and one final outcome per item', async () => {
    for (let round = 0; round < 60; round++) {
      const seed = 1_000 + round;
      const random = prng(seed);
      const concurrency = 1 + Math.floor(random() * 6);
      const keys = 1 + Math.floor(random() * 8);
      const count = 40 + Math.floor(random() * 60);
      const failRate = random() * 0.4;
      const maxAttempts = 1 + Math.floor(random() * 3);

      const source = new Subject<Item>();
      const items: Item[] = Array.from({ length: count }, (_, i) => ({
        id: `i${i}`,
        key: random() < 0.1 ? undefined : `k${Math.floor(random() * keys)}`,
      }));
      const attempts = new Map<string, number>();
      const finals = new Map<string, number>();
      const finalOrder: string[] = [];
      const runningKeys = new Set<string>();
      const violations: string[] = [];
      let running = 0;
      let peak = 0;
      let completed = false;

      const hops = async (n: number) => {
        for (let i = 0; i < n; i++) {
          if (random() < 0.2) await new Promise((r) => setTimeout(r, 0));
          else await new Promise((r) => setImmediate(r));
        }
      };

      const run = async (item: Item, attempt: number): Promise<Step<Out>> => {
        running += 1;
        peak = Math.max(peak, running);
        if (item.key !== undefined) {
          if (runningKeys.has(item.key)) violations.push(`${item.key} ran twice at once`);
          runningKeys.add(item.key);
          // Every earlier item of this key must be final before this one starts.
          for (const earlier of items) {
            if (earlier === item) break;
            if (earlier.key === item.key && !finals.has(earlier.id))
              violations.push(`${item.id} started before ${earlier.id} finished`);
          }
        }
        attempts.set(item.id, attempt);
        await hops(Math.floor(random() * 4));
        running -= 1;
        if (item.key !== undefined) runningKeys.delete(item.key);
        if (attempt < maxAttempts && random() < failRate) {
          if (random() < 0.5) {
            return {
              outcomes: [{ id: item.id, kind: 'retry', attempt }],
              next: { kind: 'again', delayMs: 0 },
            };
          }
          // A broker retry: the item goes back and the "broker" redelivers it a little later.
          void hops(1 + Math.floor(random() * 3)).then(() => source.next(item));
          return {
            outcomes: [{ id: item.id, kind: 'park', attempt }],
            next: { kind: 'park', id: item.id, holdMs: 60_000 },
          };
        }
        finals.set(item.id, (finals.get(item.id) ?? 0) + 1);
        finalOrder.push(item.id);
        return { outcomes: [{ id: item.id, kind: 'ok', attempt }], next: { kind: 'done' } };
      };

      const outcomes: Out[] = [];
      const subscription = source
        .pipe(
          keyOrdered<Item, Out>({
            concurrency,
            keyOf: (i) => i.key,
            idOf: (i) => i.id,
            firstAttempt: (i) => (attempts.get(i.id) ?? 0) + 1,
            run,
            shouldRelease: () => false,
            release: async (i) => ({ id: i.id, kind: 'released', attempt: 0 }),
          }),
        )
        .subscribe({ next: (o) => outcomes.push(o), complete: () => (completed = true) });

      for (const item of items) {
        source.next(item);
        if (random() < 0.3) await hops(1);
      }
      await waitFor(() => finals.size === count, `seed ${seed}: all items final`);
      source.complete();
      await waitFor(() => completed, `seed ${seed}: completion`);
      subscription.unsubscribe();

      const context = `seed ${seed}`;
      expect(violations, context).toEqual([]);
      expect(peak, context).toBeLessThanOrEqual(concurrency);
      expect(
        [...finals.values()].every((n) => n === 1),
        context,
      ).toBe(true);
      expect(outcomes.filter((o) => o.kind === 'ok').length, context).toBe(count);
      expect(
        outcomes.filter((o) => o.kind === 'released'),
        context,
      ).toEqual([]);
      for (let k = 0; k < keys; k++) {
        const ofKey = (ids: readonly string[]) =>
          ids.filter((id) => items.find((i) => i.id === id)!.key === `k${k}`);
        expect(ofKey(finalOrder), context).toEqual(ofKey(items.map((i) => i.id)));
      }
    }
  }, 60_000);
});
