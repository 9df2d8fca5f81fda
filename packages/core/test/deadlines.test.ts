import { afterEach, describe, expect, it, vi } from 'vitest';
import { deadline } from '../src/policies/deadlines.ts';

describe('deadline()', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('shares one timer among the deadlines of one length and fires each once, in order', async () => {
    vi.useFakeTimers();
    const fired: number[] = [];
    for (let i = 0; i < 100; i++) {
      deadline(1_000, () => fired.push(i));
      await vi.advanceTimersByTimeAsync(1);
    }
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(949);
    expect(fired).toEqual(Array.from({ length: 50 }, (_, i) => i));
    await vi.advanceTimersByTimeAsync(100);
    expect(fired).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(vi.getTimerCount()).toBe(0);
  });

  it('cancels in O(1) from anywhere in the list; the timer goes once nothing is left', async () => {
    vi.useFakeTimers();
    const fired: string[] = [];
    const a = deadline(500, () => fired.push('a'));
    const b = deadline(500, () => fired.push('b'));
    const c = deadline(500, () => fired.push('c'));
    expect(b.cancel()).toBe(true);
    expect(b.cancel()).toBe(false);
    expect(a.cancel()).toBe(true);
    await vi.advanceTimersByTimeAsync(500);
    expect(fired).toEqual(['c']);
    expect(c.cancel()).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
    const d = deadline(500, () => fired.push('d'));
    expect(vi.getTimerCount()).toBe(1);
    d.cancel();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('keeps one timer per length, each firing on time', async () => {
    vi.useFakeTimers();
    const fired: string[] = [];
    deadline(300, () => fired.push('300'));
    deadline(100, () => fired.push('100'));
    deadline(200, () => fired.push('200'));
    expect(vi.getTimerCount()).toBe(3);
    await vi.advanceTimersByTimeAsync(100);
    expect(fired).toEqual(['100']);
    await vi.advanceTimersByTimeAsync(100);
    expect(fired).toEqual(['100', '200']);
    await vi.advanceTimersByTimeAsync(100);
    expect(fired).toEqual(['100', '200', '300']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('re-arms after its oldest entry was cancelled, for the next one', async () => {
    vi.useFakeTimers();
    const fired: string[] = [];
    const first = deadline(1_000, () => fired.push('first'));
    await vi.advanceTimersByTimeAsync(400);
    deadline(1_000, () => fired.push('second'));
    first.cancel();
    await vi.advanceTimersByTimeAsync(998);
    expect(fired).toEqual([]);
    await vi.advanceTimersByTimeAsync(2);
    expect(fired).toEqual(['second']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('lets an expiring callback set a new deadline of the same length', async () => {
    vi.useFakeTimers();
    const fired: number[] = [];
    const again = (n: number) => {
      fired.push(n);
      if (n < 3) deadline(100, () => again(n + 1));
    };
    deadline(100, () => again(1));
    await vi.advanceTimersByTimeAsync(300);
    expect(fired).toEqual([1, 2, 3]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
