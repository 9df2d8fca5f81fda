import { afterEach, describe, expect, it, vi } from 'vitest';
import { HandlerTimeoutError } from '../src/errors.ts';
import { withTimeout } from '../src/policies/with-timeout.ts';

describe('withTimeout', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('resolves with the value and clears its timer', async () => {
    vi.useFakeTimers();
    await expect(withTimeout(async () => 42, 1_000)).resolves.toBe(42);
    await expect(withTimeout(() => 'sync', 1_000)).resolves.toBe('sync');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects with HandlerTimeoutError after timeoutMs and aborts the signal with it', async () => {
    vi.useFakeTimers();
    let signal: AbortSignal | undefined;
    const result = withTimeout((s) => {
      signal = s;
      return new Promise<never>(() => {});
    }, 500);
    const settled = result.then(
      () => 'resolved',
      (e: unknown) => e,
    );
    await vi.advanceTimersByTimeAsync(499);
    expect(signal?.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const error = await settled;
    expect(error).toBeInstanceOf(HandlerTimeoutError);
    expect((error as Error).message).toContain('500 ms');
    expect(signal?.aborted).toBe(true);
    expect(signal?.reason).toBe(error);
  });

  it('turns a synchronous throw into a rejection, with or without a timeout', async () => {
    vi.useFakeTimers();
    const error = new Error('sync');
    for (const timeoutMs of [1_000, 0, undefined]) {
      let promise: Promise<unknown> | undefined;
      expect(() => {
        promise = withTimeout(() => {
          throw error;
        }, timeoutMs);
      }).not.toThrow();
      await expect(promise).rejects.toBe(error);
    }
    expect(vi.getTimerCount()).toBe(0);
  });

  it('passes a rejection through and clears its timer', async () => {
    vi.useFakeTimers();
    const error = new Error('async');
    await expect(withTimeout(async () => Promise.reject(error), 1_000)).rejects.toBe(error);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('sets no timer for 0, undefined, Infinity or more than a timer keeps, and never aborts', async () => {
    vi.useFakeTimers();
    // 2^31 ms armed a timer Node runs after 1 ms, and the handler timed out then.
    for (const timeoutMs of [0, undefined, Number.POSITIVE_INFINITY, -1, 2 ** 31, 1e12]) {
      let signal: AbortSignal | undefined;
      const running = withTimeout((s) => {
        signal = s;
        return new Promise<string>((r) => setTimeout(() => r('late'), 3_600_000));
      }, timeoutMs);
      expect(vi.getTimerCount()).toBe(1); // only the work's own timer
      await vi.advanceTimersByTimeAsync(3_600_000);
      await expect(running).resolves.toBe('late');
      expect(signal?.aborted).toBe(false);
    }
  });

  it('times out at 2^31 - 1 ms, the longest a timer keeps', async () => {
    vi.useFakeTimers();
    const running = withTimeout(() => new Promise<never>(() => {}), 2 ** 31 - 1).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(2 ** 31 - 1 - 60_000);
    expect(await running).toBeInstanceOf(HandlerTimeoutError);
  });
});
