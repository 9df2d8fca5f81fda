import { settleOnce, type TransportDelivery, type WireMessage } from '@switchyard/core/transport';

export interface Settlement {
  ack(): Promise<void>;
  nack(delayMs: number): Promise<void>;
  /** Called once, on the first settle call, before the broker is asked. */
  settling(): void;
  /** Called once the broker answered the settle (either way): only then is the delivery off the books. */
  settled(): void;
}

/** A delivery whose first `ack`/`nack` wins (the kit's settleOnce); later calls get the same promise. */
export function createDelivery(
  message: WireMessage,
  attempt: number,
  settlement: Settlement,
): TransportDelivery {
  return settleOnce(message, attempt, {
    ack: () => {
      settlement.settling();
      return settlement.ack().finally(() => settlement.settled());
    },
    nack: (delayMs) => {
      settlement.settling();
      return settlement.nack(delayMs).finally(() => settlement.settled());
    },
  });
}
