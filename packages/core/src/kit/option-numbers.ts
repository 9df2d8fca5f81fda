// Numeric options of transports and the packages built on the bus, checked once when each is made:
// a typo (NaN, 0, Infinity, a string from an env var) is an UnsupportedOptionError naming the
// option, instead of a poll that spins or a wait that ends at once.
import { UnsupportedOptionError } from '../errors.ts';
import { MAX_TIMER_MS } from './bounded.ts';

/**
 * An option that ends up in `setTimeout`: a whole or
 * fractional number of milliseconds from `min` to `MAX_TIMER_MS`. Node runs a timer given NaN,
 * Infinity or more than 2^31 - 1 ms after 1 ms, so `connectTimeoutMs: Infinity` ('wait for ever')
 * failed every connect at once and `reconnect.maxDelayMs: Infinity` retried in a 1 ms loop. The
 * message names the option and the accepted range.
 */
export function timerMs(name: string, value: number, min = 1): number {
  if (typeof value !== 'number' || !(value >= min && value <= MAX_TIMER_MS))
    throw new UnsupportedOptionError(
      `${name} must be a number of milliseconds from ${min} to ${MAX_TIMER_MS} (about 24.8 days), not ${String(value)}`,
    );
  return value;
}

/**
 * A count option (a batch size, a prefetch, retries), checked when the component is made: a whole
 * number from `min`. A batch size of 0 or NaN read nothing and polled on for ever; the message
 * names the option.
 */
export function wholeNumber(name: string, value: number, min = 1): number {
  if (!Number.isSafeInteger(value) || value < min)
    throw new UnsupportedOptionError(`${name} must be a whole number from ${min}, not ${String(value)}`);
  return value;
}
