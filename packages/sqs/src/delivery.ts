import type { TransportDelivery, WireMessage } from '@switchyard/core/transport';

export interface Settlement {
  ack(): Promise<void>;
  nack(delayMs: number): Promise<void>;
  /** Called once, on the first settle call, before the broker is asked. */
  settling(): void;
  /** Called once the broker answered the settle (either way): only then is the delivery off the books. */
  settled(): void;
}

/** A delivery whose first `ack`/`nack` wins; later calls get the same promise. */
export function createDelivery(
  message: WireMessage,
  attempt: number,
  settlement: Settlement,
): TransportDelivery {
  let outcome: Promise<void> | undefined;
  const settle = (run: () => Promise<void>): Promise<void> => {
    if (!outcome) {
      settlement.settling();
      outcome = run().finally(() => settlement.settled());
    }
    return outcome;
  };
  return {
    message,
    attempt,
    ack: () => settle(() => settlement.ack()),
    nack: (options) => settle(() => settlement.nack(Math.max(0, options?.delayMs ?? 0))),
  };
}
