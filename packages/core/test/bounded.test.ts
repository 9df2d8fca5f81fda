import { describe, expect, it } from 'vitest';
import { bounded } from '../src/kit/bounded.ts';

describe('bounded', () => {
  it('resolves when the promise settles, well before the bound', async () => {
    const started = performance.now();
    await bounded(new Promise((resolve) => setTimeout(resolve, 10)), 5_000);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('resolves at the bound when the promise never settles', async () => {
    const started = performance.now();
    await bounded(new Promise(() => {}), 50);
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
  });

  it('never rejects, and a rejection ends the wait as a resolution does', async () => {
    const started = performance.now();
    await expect(bounded(Promise.reject(new Error('no answer')), 5_000)).resolves.toBeUndefined();
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

describe('bounded, with a bound no timer can keep', () => {
  it('waits for the promise alone: Infinity and 2^31 ms are no bound, not the 1 ms Node would make of them', async () => {
    for (const ms of [Number.POSITIVE_INFINITY, 2 ** 31]) {
      let settled = false;
      const waiting = bounded(new Promise((resolve) => setTimeout(resolve, 100)), ms).then(() => {
        settled = true;
      });
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(settled).toBe(false);
      await waiting;
    }
  });
});
