import { afterEach, describe, expect, it, vi } from 'vitest';
import { type Entry, KeyDispatcher } from '../src/key-dispatcher.ts';

function setup(prefetch: number) {
  const out: Entry<string>[] = [];
  const dispatcher = new KeyDispatcher<string>(prefetch, (entry) => out.push(entry));
  return { dispatcher, out, items: () => out.map((e) => e.item) };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('KeyDispatcher: key-ordered hand-out within one member', () => {
  it('hands out one record per key at a time, in offset order, and different keys concurrently', () => {
    const { dispatcher, out, items } = setup(10);
    dispatcher.add(0, 0, 'a', 'a0');
    dispatcher.add(0, 1, 'a', 'a1');
    dispatcher.add(0, 2, 'b', 'b0');
    dispatcher.add(1, 0, 'c', 'c0');
    dispatcher.pump();
    expect(items()).toEqual(['a0', 'b0', 'c0']);
    expect(dispatcher.ack(out[0]!)).toBe(true);
    expect(items()).toEqual(['a0', 'b0', 'c0', 'a1']);
  });

  it('never has more than prefetch unsettled', () => {
    const { dispatcher, out } = setup(2);
    for (let i = 0; i < 6; i++) dispatcher.add(0, i, undefined, `u${i}`);
    dispatcher.pump();
    expect(out).toHaveLength(2);
    expect(dispatcher.outstanding).toBe(2);
    dispatcher.ack(out[0]!);
    expect(out).toHaveLength(3);
    expect(dispatcher.outstanding).toBe(2);
  });

  it('redelivers a nacked record first in its key, with the attempt counted', () => {
    const { dispatcher, out, items } = setup(10);
    dispatcher.add(0, 0, 'a', 'a0');
    dispatcher.add(0, 1, 'a', 'a1');
    dispatcher.pump();
    expect(out[0]!.attempt).toBe(1);
    dispatcher.nack(out[0]!);
    expect(items()).toEqual(['a0', 'a0']);
    expect(out[1]!.attempt).toBe(2);
    dispatcher.ack(out[1]!);
    expect(items()).toEqual(['a0', 'a0', 'a1']);
  });

  it('holds a delayed nack for its delay without blocking other keys', () => {
    vi.useFakeTimers();
    const { dispatcher, out, items } = setup(10);
    dispatcher.add(0, 0, 'a', 'a0');
    dispatcher.add(0, 1, 'a', 'a1');
    dispatcher.add(0, 2, 'b', 'b0');
    dispatcher.pump();
    dispatcher.nack(out[0]!, 500);
    dispatcher.add(0, 3, 'b', 'b1');
    dispatcher.ack(out[1]!); // b0
    expect(items()).toEqual(['a0', 'b0', 'b1']);
    vi.advanceTimersByTime(499);
    expect(items()).toEqual(['a0', 'b0', 'b1']);
    vi.advanceTimersByTime(1);
    expect(items()).toEqual(['a0', 'b0', 'b1', 'a0']);
    expect(out[3]!.attempt).toBe(2);
  });

  it('treats a second settle of a delivery as a no-op', () => {
    const { dispatcher, out } = setup(10);
    dispatcher.add(0, 0, 'a', 'a0');
    dispatcher.pump();
    expect(dispatcher.ack(out[0]!)).toBe(true);
    expect(dispatcher.ack(out[0]!)).toBe(false);
    expect(dispatcher.nack(out[0]!)).toBe(false);
    expect(dispatcher.outstanding).toBe(0);
  });

  it('forgets a revoked partition but keeps prefetch slots until its handlers settle', () => {
    vi.useFakeTimers();
    const { dispatcher, out, items } = setup(2);
    dispatcher.add(0, 0, 'a', 'p0a');
    dispatcher.add(0, 1, 'b', 'p0b');
    dispatcher.add(0, 2, 'c', 'p0c');
    dispatcher.add(1, 0, 'x', 'p1x');
    dispatcher.pump();
    expect(items()).toEqual(['p0a', 'p0b']);
    dispatcher.dropPartition(0);
    expect(dispatcher.countOf(0)).toBe(0);
    expect(dispatcher.outstanding).toBe(2);
    expect(dispatcher.ack(out[0]!)).toBe(false); // stale: nothing to commit
    expect(items()).toEqual(['p0a', 'p0b', 'p1x']);
    expect(dispatcher.nack(out[1]!, 100)).toBe(false);
    vi.advanceTimersByTime(1000);
    expect(items()).toEqual(['p0a', 'p0b', 'p1x']);
    expect(dispatcher.outstanding).toBe(1);
  });

  it('cancels delayed redeliveries of a dropped partition', () => {
    vi.useFakeTimers();
    const { dispatcher, out, items } = setup(5);
    dispatcher.add(3, 0, 'a', 'a0');
    dispatcher.pump();
    dispatcher.nack(out[0]!, 50);
    dispatcher.clear();
    vi.advanceTimersByTime(100);
    expect(items()).toEqual(['a0']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('hands out nothing while closed and resumes when opened', () => {
    const { dispatcher, items } = setup(5);
    dispatcher.setOpen(false);
    dispatcher.add(0, 0, 'a', 'a0');
    dispatcher.pump();
    expect(items()).toEqual([]);
    dispatcher.setOpen(true);
    expect(items()).toEqual(['a0']);
  });
});
