// Checks of numeric options, where a typo (NaN, 0, a negative, a string from an env var) would
// otherwise stall a consumer or mean something else on each broker.
import { MAX_TIMER_MS } from './kit/bounded.ts';

/** `value`, when it is a positive integer; a RangeError naming the option otherwise. */
export function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw new RangeError(`${name} must be a positive integer, not ${String(value)}`);
  return value;
}

/** `value`, when it is a number ≥ 0 (Infinity included); a RangeError naming the option otherwise. */
export function nonNegative(name: string, value: number): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0)
    throw new RangeError(`${name} must be a number ≥ 0, not ${String(value)}`);
  return value;
}

/**
 * `value`, when it is a number of milliseconds a timer keeps (0 to 2^31 - 1); a RangeError naming
 * the option otherwise. Node runs setTimeout given NaN, Infinity or more after 1 ms, so a wait
 * meant to be long would end at once.
 */
export function timerDelay(name: string, value: number): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= MAX_TIMER_MS))
    throw new RangeError(
      `${name} must be a number of milliseconds from 0 to ${MAX_TIMER_MS}, not ${String(value)}`,
    );
  return value;
}

/** `value`, when it is a finite number above 0; a RangeError naming the option otherwise. */
export function positiveRate(name: string, value: number): number {
  if (typeof value !== 'number' || !(value > 0 && Number.isFinite(value)))
    throw new RangeError(`${name} must be a finite number above 0, not ${String(value)}`);
  return value;
}
