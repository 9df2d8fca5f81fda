import { settleOnce, type TransportDelivery, type WireMessage } from '@switchyard/core/transport';
import type { Entry } from './key-dispatcher.ts';

/** How the member settles a record it handed out. */
export interface RecordSettlement {
  /** Commit once the record is part of its partition's contiguous settled prefix. */
  ack(entry: Entry<WireMessage>): Promise<void>;
  /** Back to the head of its key, out again no sooner than `delayMs` (held by this member). */
  nack(entry: Entry<WireMessage>, delayMs: number): Promise<void>;
}

/** One fetched record handed to the bus, settled once (the first ack or nack wins). */
export function recordDelivery(entry: Entry<WireMessage>, settlement: RecordSettlement): TransportDelivery {
  return settleOnce(entry.item, entry.attempt, {
    ack: () => settlement.ack(entry),
    nack: (delayMs) => settlement.nack(entry, delayMs),
  });
}
