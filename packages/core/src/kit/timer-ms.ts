import { UnsupportedOptionError } from '../errors.ts';
import { MAX_TIMER_MS } from './bounded.ts';

/**
 * A transport option that ends up in `setTimeout`, checked when the transport is made: a whole or
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
