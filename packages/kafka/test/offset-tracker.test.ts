import { describe, expect, it } from 'vitest';
import { OffsetTracker } from '../src/offset-tracker.ts';

function tracked(start: number, count: number): OffsetTracker {
  const tracker = new OffsetTracker(start);
  for (let offset = start; offset < start + count; offset++) tracker.track(offset);
  return tracker;
}

describe('OffsetTracker: the contiguous settled prefix of a partition', () => {
  it('starts at its first offset with nothing to commit', () => {
    const tracker = new OffsetTracker(40);
    expect(tracker.committable()).toBe(40);
    expect(tracker.needsCommit()).toBe(false);
    expect(tracker.size).toBe(0);
  });

  it('commits only up to the first unsettled offset when settles arrive out of order', () => {
    const tracker = tracked(10, 5); // 10..14
    expect(tracker.settle(12)).toBe(false);
    expect(tracker.settle(14)).toBe(false);
    expect(tracker.committable()).toBe(10);
    expect(tracker.needsCommit()).toBe(false);
    expect(tracker.settle(10)).toBe(true);
    expect(tracker.committable()).toBe(11);
    expect(tracker.settle(11)).toBe(true);
    // 12 was already settled, so the prefix jumps over it to the still-pending 13.
    expect(tracker.committable()).toBe(13);
    expect(tracker.settle(13)).toBe(true);
    expect(tracker.committable()).toBe(15);
    expect(tracker.size).toBe(0);
  });

  it('never moves past a record that is nacked or in retry, however many behind it settle', () => {
    const tracker = tracked(0, 100);
    for (let offset = 1; offset < 100; offset++) tracker.settle(offset);
    expect(tracker.committable()).toBe(0);
    expect(tracker.unsettled).toBe(1);
    expect(tracker.size).toBe(100);
    tracker.settle(0);
    expect(tracker.committable()).toBe(100);
  });

  it('ignores a refetch of an offset it already tracks and a second settle of one offset', () => {
    const tracker = tracked(5, 3);
    expect(tracker.track(6)).toBe(false);
    expect(tracker.track(7)).toBe(false);
    expect(tracker.settle(5)).toBe(true);
    expect(tracker.settle(5)).toBe(false);
    expect(tracker.settle(99)).toBe(false);
    expect(tracker.committable()).toBe(6);
  });

  it('steps over gaps in offsets (compaction, transaction markers)', () => {
    const tracker = new OffsetTracker(0);
    tracker.track(0);
    tracker.track(3);
    tracker.track(7);
    tracker.settle(0);
    expect(tracker.committable()).toBe(3);
    tracker.settle(7);
    expect(tracker.committable()).toBe(3);
    tracker.settle(3);
    expect(tracker.committable()).toBe(8);
  });

  it('moves to the end of a batch whose last records were never handed out', () => {
    const tracker = tracked(0, 2);
    tracker.fetchedThrough(5); // offsets 2..4 were control records
    expect(tracker.committable()).toBe(0);
    tracker.settle(0);
    tracker.settle(1);
    expect(tracker.committable()).toBe(5);
    expect(tracker.fetched).toBe(5);
    tracker.fetchedThrough(3); // never backwards
    expect(tracker.fetched).toBe(5);
  });

  it('reports a commit as due only when the prefix passed the last committed offset', () => {
    const tracker = tracked(0, 3);
    tracker.settle(0);
    expect(tracker.needsCommit()).toBe(true);
    tracker.committed = tracker.committable();
    expect(tracker.needsCommit()).toBe(false);
    tracker.settle(2);
    expect(tracker.needsCommit()).toBe(false);
    tracker.settle(1);
    expect(tracker.needsCommit()).toBe(true);
    expect(tracker.committable()).toBe(3);
  });

  it('agrees with a brute-force model on random settle orders (and compacts long runs)', () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let round = 0; round < 20; round++) {
      const start = Math.floor(random() * 1000);
      const count = 1 + Math.floor(random() * 3000);
      const tracker = tracked(start, count);
      const order = Array.from({ length: count }, (_, i) => start + i).sort(() => random() - 0.5);
      const settled = new Set<number>();
      for (const offset of order) {
        tracker.settle(offset);
        settled.add(offset);
        let expected = start;
        while (settled.has(expected)) expected++;
        expect(tracker.committable()).toBe(expected);
        expect(tracker.size).toBe(start + count - expected);
      }
    }
  });
});
