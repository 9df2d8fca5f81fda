import type { Delivery } from '../delivery.ts';
import type { SwitchyardEvent } from '../event.ts';

/**
 * What became of one attempt at one delivery. Every delivery ends in exactly one of
 * acked | deadLettered | duplicate | rejected | released; `retrying` may come before.
 * - acked: the handler succeeded and the delivery was acked.
 * - retrying: the attempt failed and another is scheduled after `delayMs`.
 * - deadLettered: the last attempt failed (or the error is non-retryable); a copy went to the dead-letter topic.
 * - duplicate: the idempotency store says this group handled the event already; acked without running the handler.
 * - rejected: not a valid event or failed its schema; dead-lettered with the reason.
 * - released: given back unhandled for redelivery (shutdown, unsubscribe).
 */
export type OutcomeKind = 'acked' | 'retrying' | 'deadLettered' | 'duplicate' | 'rejected' | 'released';

export interface Outcome<T = unknown> {
  readonly kind: OutcomeKind;
  readonly delivery: Delivery<T>;
  readonly event: SwitchyardEvent<T> | undefined;
  /** The attempt this outcome is about (1-based). */
  readonly attempt: number;
  readonly error?: Error | undefined;
  /** For `retrying`: when the next attempt comes. */
  readonly delayMs?: number | undefined;
  /** For `deadLettered` and `rejected`: where the copy went. */
  readonly deadLetterTopic?: string | undefined;
  /** Handler time of this attempt. */
  readonly durationMs: number;
}
