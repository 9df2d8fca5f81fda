import type { TransportDelivery, WireMessage } from '../transport.ts';

/**
 * What a delivery's ack or nack returns when the settle is complete before it returns (memory://):
 * the bus and handle() recognise it and go on at once, where any other promise costs them a
 * microtask each before the outcome is known.
 */
export const SETTLED_NOW: Promise<void> = Promise.resolve();

/**
 * A delivery whose first `ack` or `nack` wins: that call settles it with the broker, and every
 * later call (a second ack, a nack after the ack) gets the same promise and does nothing. The
 * contract asks each delivery to be settled exactly once; this is where a transport gets that.
 * A subclass says how to settle (`settleAck`, `settleNack`); `settleOnce()` builds one from functions.
 */
export abstract class SettleOnce implements TransportDelivery {
  readonly message: WireMessage;
  readonly attempt: number;
  #outcome: Promise<void> | undefined;

  constructor(message: WireMessage, attempt: number) {
    this.message = message;
    this.attempt = attempt;
  }

  /** Whether `ack` or `nack` was called (the broker may not have answered yet). */
  get settled(): boolean {
    return this.#outcome !== undefined;
  }

  ack(): Promise<void> {
    this.#outcome ??= this.settleAck();
    return this.#outcome;
  }

  nack(options?: { delayMs?: number }): Promise<void> {
    this.#outcome ??= this.settleNack(Math.max(0, options?.delayMs ?? 0));
    return this.#outcome;
  }

  /** Settle with the broker as acked; called at most once. Rejects (never throws) when it cannot. */
  protected abstract settleAck(): Promise<void>;
  /** Give the message back, redelivered no sooner than `delayMs` (≥ 0); called at most once. */
  protected abstract settleNack(delayMs: number): Promise<void>;
}

/** How `settleOnce()` settles: each called at most once, and only one of the two. */
export interface Settlement {
  ack(): Promise<void>;
  /** `delayMs` is ≥ 0. */
  nack(delayMs: number): Promise<void>;
}

class SettledBy extends SettleOnce {
  readonly #settlement: Settlement;

  constructor(message: WireMessage, attempt: number, settlement: Settlement) {
    super(message, attempt);
    this.#settlement = settlement;
  }

  protected settleAck(): Promise<void> {
    return this.#settlement.ack();
  }

  protected settleNack(delayMs: number): Promise<void> {
    return this.#settlement.nack(delayMs);
  }
}

/** A first-settle-wins delivery of `message` that settles through `settlement`. */
export function settleOnce(message: WireMessage, attempt: number, settlement: Settlement): SettleOnce {
  return new SettledBy(message, attempt, settlement);
}
