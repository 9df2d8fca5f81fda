import { describe, expect, it } from 'vitest';
import { backoffSequence, exponentialBackoff, fixedBackoff, linearBackoff } from '../src/backoff.ts';

const samples = (f: (attempt: number) => number, attempt: number, n = 2_000) =>
  Array.from({ length: n }, () => f(attempt));

describe('backoff', () => {
  it('exponential: initial × factor^(attempt-1), capped at maxMs', () => {
    const b = exponentialBackoff({ initialMs: 100, maxMs: 1_000 });
    expect([1, 2, 3, 4, 5, 6].map(b)).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    expect(exponentialBackoff({ initialMs: 10, factor: 3 })(3)).toBe(90);
    // Huge attempts must not overflow to Infinity/NaN.
    expect(b(5_000)).toBe(1_000);
    expect(exponentialBackoff({ initialMs: 100 })(40)).toBe(30_000);
  });

  it('linear: initial × attempt, capped', () => {
    const b = linearBackoff({ initialMs: 50, maxMs: 120 });
    expect([1, 2, 3, 4].map(b)).toEqual([50, 100, 120, 120]);
  });

  it('fixed: the same delay every time, whatever its size', () => {
    expect([1, 2, 10].map(fixedBackoff(250))).toEqual([250, 250, 250]);
    // A fixed delay is not a capped one: 60 s means 60 s.
    expect(fixedBackoff(60_000)(1)).toBe(60_000);
    for (const d of samples(fixedBackoff(200, 'full'), 1)) expect(d).toBeGreaterThanOrEqual(0);
    for (const d of samples(fixedBackoff(200, 'full'), 1)) expect(d).toBeLessThanOrEqual(200);
  });

  it('sequence: exactly the delays given, then the last again', () => {
    const b = backoffSequence(100, 200, 500);
    expect([1, 2, 3, 4, 9].map(b)).toEqual([100, 200, 500, 500, 500]);
    expect(backoffSequence()(1)).toBe(0);
  });

  it('full jitter stays in [0, d] (d capped) and actually varies', () => {
    const b = exponentialBackoff({ initialMs: 100, maxMs: 300, jitter: 'full' });
    for (const [attempt, d] of [
      [1, 100],
      [2, 200],
      [3, 300],
      [9, 300],
    ] as const) {
      const values = samples(b, attempt);
      expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...values)).toBeLessThanOrEqual(d);
      expect(values.every(Number.isInteger)).toBe(true);
      // 2 000 uniform draws: both halves of the range are hit.
      expect(values.some((v) => v < d / 2)).toBe(true);
      expect(values.some((v) => v > d / 2)).toBe(true);
    }
  });

  it('equal jitter stays in [d/2, d]', () => {
    const b = linearBackoff({ initialMs: 100, maxMs: 250, jitter: 'equal' });
    for (const [attempt, d] of [
      [1, 100],
      [2, 200],
      [5, 250],
    ] as const) {
      const values = samples(b, attempt);
      expect(Math.min(...values)).toBeGreaterThanOrEqual(d / 2);
      expect(Math.max(...values)).toBeLessThanOrEqual(d);
      expect(new Set(values).size).toBeGreaterThan(1);
    }
  });
});
