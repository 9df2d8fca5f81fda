import { describe, expect, it } from 'vitest';
import { Ring } from '../src/kit/ring.ts';

describe('Ring', () => {
  it('keeps the last capacity items, oldest first, however many were pushed', () => {
    for (const capacity of [1, 3, 7]) {
      const ring = new Ring<number>(capacity);
      const all: number[] = [];
      for (let i = 0; i < 25; i++) {
        ring.push(i);
        all.push(i);
        expect([...ring], `capacity ${capacity}, after ${i}`).toEqual(all.slice(-capacity));
        expect(ring.length).toBe(Math.min(capacity, all.length));
      }
    }
  });

  it('holds nothing with capacity 0', () => {
    const ring = new Ring<string>(0);
    ring.push('a');
    expect(ring.length).toBe(0);
    expect([...ring]).toEqual([]);
  });
});
