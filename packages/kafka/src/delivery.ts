import { SettleOnce, type TransportDelivery, type WireMessage } from '@switchyard/core/transport';
import type { Entry } from './key-dispatcher.ts';

/** How the member settles a record it handed out. */
export interface RecordSettlement {
  /** Commit once the record is part of its partition's contiguous settled prefix. */
  ack(entry: Entry<WireMessage>): Promise<void>;
  /** Back to the head of its key, out again no sooner than `delayMs` (held by this member). */
  nack(entry: Entry<WireMessage>, delayMs: number): Promise<void>;
}

/** One fetched record handed to the bus, settled once (the first ack or nack wins). */
class RecordDelivery extends SettleOnce {
  readonly #entry: Entry<WireMessage>;
  readonly #settlement: RecordSettlement;

  constructor(entry: Entry<WireMessage>, settlement: RecordSettlement) {
    super(entry.item, entry.attempt);
    this.#entry = entry;
    this.#settlement = settlement;
  }

  protected settleAck(): Promise<void> {
    return this.#settlement.ack(this.#entry);
  }

  protected settleNack(delayMs: number): Promise<void> {
    return this.#settlement.nack(this.#entry, delayMs);
  }
}

/** One object per record (no closures per record: a backlog drain hands out tens of thousands a second). */
export function recordDelivery(entry: Entry<WireMessage>, settlement: RecordSettlement): TransportDelivery {
  return new RecordDelivery(entry, settlement);
}
