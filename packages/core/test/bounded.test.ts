import { describe, expect, it } from 'vitest';
import { UnsupportedOptionError } from '../src/errors.ts';
import { bounded, MAX_TIMER_MS } from '../src/kit/bounded.ts';
import { timerMs, wholeNumber } from '../src/kit/option-numbers.ts';

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

describe('timerMs', () => {
  it('passes a duration a timer keeps, from min to 2^31 - 1 ms', () => {
    expect(timerMs('waitMs', 1)).toBe(1);
    expect(timerMs('waitMs', 0, 0)).toBe(0);
    expect(timerMs('waitMs', 2.5)).toBe(2.5);
    expect(timerMs('waitMs', MAX_TIMER_MS)).toBe(MAX_TIMER_MS);
  });

  it('refuses NaN, Infinity, more than 2^31 - 1 or less than min with an UnsupportedOptionError naming the option', () => {
    for (const ms of [Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31, 0, -1, '5' as unknown as number]) {
      expect(() => timerMs('waitMs', ms), String(ms)).toThrow(UnsupportedOptionError);
      expect(() => timerMs('waitMs', ms)).toThrow(
        /^waitMs must be a number of milliseconds from 1 to 2147483647/,
      );
    }
    expect(() => timerMs('maxDelayMs', 50, 100)).toThrow(/from 100 to/);
  });
});

describe('wholeNumber', () => {
  it('passes a whole number from min, and refuses anything else naming the option', () => {
    expect(wholeNumber('batchSize', 1)).toBe(1);
    expect(wholeNumber('retries', 0, 0)).toBe(0);
    for (const value of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '5' as unknown as number]) {
      expect(() => wholeNumber('batchSize', value), String(value)).toThrow(UnsupportedOptionError);
      expect(() => wholeNumber('batchSize', value)).toThrow(/^batchSize must be a whole number from 1/);
    }
  });
});
