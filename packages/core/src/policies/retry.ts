import { type Backoff, exponentialBackoff } from '../backoff.ts';
import { NonRetryableError } from '../errors.ts';
import { MAX_TIMER_MS } from '../kit/bounded.ts';

export interface RetryOptions {
  /** Attempts in all, the first included. Default: 3. */
  readonly maxAttempts?: number;
  /** Delay before each next attempt. Default: exponential from 100 ms, capped at 30 s, full jitter. */
  readonly backoff?: Backoff;
  /** Which errors are worth another attempt. Default: all but NonRetryableError and its subclasses. */
  readonly retryable?: (error: Error) => boolean;
  /**
   * Delays up to this are waited out in this process (the delivery stays unsettled, its key held);
   * longer ones go back to the broker with `nack({ delayMs })`. Default: 5 000 ms.
   */
  readonly inProcessMaxDelayMs?: number;
  /**
   * After a broker-side retry, later events of the same key wait for it to come back at most
   * `delayMs + holdGraceMs` (it may come back to another member). Default: 10 000 ms.
   */
  readonly holdGraceMs?: number;
}

export type RetryDecision =
  | { readonly kind: 'giveUp'; readonly reason: string }
  | { readonly kind: 'inProcess'; readonly delayMs: number }
  | { readonly kind: 'broker'; readonly delayMs: number };

const defaultBackoff = exponentialBackoff({ initialMs: 100, maxMs: 30_000, jitter: 'full' });

/** What to do after `attempt` failed with `error`: a pure function of the policy. */
export function retryDecision(
  options: RetryOptions | false | undefined,
  error: Error,
  attempt: number,
): RetryDecision {
  if (options === false) return { kind: 'giveUp', reason: `attempt ${attempt} failed: ${error.message}` };
  const maxAttempts = options?.maxAttempts ?? 3;
  const retryable = options?.retryable ?? ((e: Error) => !(e instanceof NonRetryableError));
  if (!retryable(error)) return { kind: 'giveUp', reason: `non-retryable: ${error.message}` };
  if (attempt >= maxAttempts)
    return { kind: 'giveUp', reason: `${attempt} attempts failed; last: ${error.message}` };
  // A backoff's NaN (an initialMs read from a typo) retries now; a delay past what a timer keeps
  // waits that long (about 24.8 days) rather than the 1 ms Node would make of it.
  const wanted = (options?.backoff ?? defaultBackoff)(attempt);
  const delayMs = wanted > 0 ? Math.min(wanted, MAX_TIMER_MS) : 0;
  return delayMs <= (options?.inProcessMaxDelayMs ?? 5_000)
    ? { kind: 'inProcess', delayMs }
    : { kind: 'broker', delayMs };
}
