import { describe, expect, it } from 'vitest';
import { backoffSequence, fixedBackoff } from '../src/backoff.ts';
import { NonRetryableError } from '../src/errors.ts';
import { retryDecision } from '../src/policies/retry.ts';

class CardDeclined extends NonRetryableError {}

describe('retryDecision', () => {
  const boom = new Error('boom');

  it('defaults: 3 attempts, exponential full-jitter backoff from 100 ms, in process', () => {
    for (let i = 0; i < 200; i++) {
      const first = retryDecision(undefined, boom, 1);
      expect(first.kind).toBe('inProcess');
      if (first.kind !== 'inProcess') return;
      expect(first.delayMs).toBeGreaterThanOrEqual(0);
      expect(first.delayMs).toBeLessThanOrEqual(100);
      const second = retryDecision({}, boom, 2);
      expect(second.kind === 'inProcess' && second.delayMs <= 200).toBe(true);
    }
    const last = retryDecision(undefined, boom, 3);
    expect(last).toEqual({ kind: 'giveUp', reason: '3 attempts failed; last: boom' });
  });

  it('gives up at maxAttempts, and beyond it (broker counts can exceed ours)', () => {
    const options = { maxAttempts: 5, backoff: fixedBackoff(10) };
    expect(retryDecision(options, boom, 4)).toEqual({ kind: 'inProcess', delayMs: 10 });
    expect(retryDecision(options, boom, 5).kind).toBe('giveUp');
    expect(retryDecision(options, boom, 17).kind).toBe('giveUp');
    expect(retryDecision({ maxAttempts: 1 }, boom, 1).kind).toBe('giveUp');
  });

  it('never retries NonRetryableError or its subclasses', () => {
    for (const error of [new NonRetryableError('bad input'), new CardDeclined('declined')]) {
      const decision = retryDecision({ maxAttempts: 10 }, error, 1);
      expect(decision).toEqual({ kind: 'giveUp', reason: `non-retryable: ${error.message}` });
    }
  });

  it('uses a custom retryable predicate instead of the default', () => {
    const options = { maxAttempts: 3, retryable: (e: Error) => e.message !== 'fatal' };
    expect(retryDecision(options, new Error('fatal'), 1).kind).toBe('giveUp');
    expect(retryDecision(options, new Error('flaky'), 1).kind).toBe('inProcess');
    // The predicate replaces the default, so it may choose to retry a NonRetryableError.
    expect(retryDecision({ retryable: () => true }, new NonRetryableError('x'), 1).kind).toBe('inProcess');
  });

  it('retry: false gives up at once', () => {
    expect(retryDecision(false, boom, 1)).toEqual({ kind: 'giveUp', reason: 'attempt 1 failed: boom' });
  });

  it('sends delays above inProcessMaxDelayMs to the broker, keeps the rest in process', () => {
    const options = { maxAttempts: 4, backoff: backoffSequence(5_000, 5_001), inProcessMaxDelayMs: 5_000 };
    expect(retryDecision(options, boom, 1)).toEqual({ kind: 'inProcess', delayMs: 5_000 });
    expect(retryDecision(options, boom, 2)).toEqual({ kind: 'broker', delayMs: 5_001 });
    expect(retryDecision({ backoff: fixedBackoff(1), inProcessMaxDelayMs: 0 }, boom, 1)).toEqual({
      kind: 'broker',
      delayMs: 1,
    });
  });

  it('clamps a negative backoff to 0', () => {
    expect(retryDecision({ backoff: () => -50 }, boom, 1)).toEqual({ kind: 'inProcess', delayMs: 0 });
  });

  it('retries a NaN backoff now, and waits a delay past what a timer keeps for 2^31 - 1 ms, not 1 ms', () => {
    // NaN passed through Math.max and went to the broker as nack({ delayMs: NaN }); Infinity or 2^31
    // reached a setTimeout that Node runs after 1 ms.
    expect(retryDecision({ backoff: () => Number.NaN }, boom, 1)).toEqual({ kind: 'inProcess', delayMs: 0 });
    for (const wanted of [Number.POSITIVE_INFINITY, 2 ** 31])
      expect(retryDecision({ backoff: () => wanted, inProcessMaxDelayMs: Infinity }, boom, 1)).toEqual({
        kind: 'inProcess',
        delayMs: 2 ** 31 - 1,
      });
  });
});
