import type { SwitchyardEvent } from './event.ts';
import type { TransportDelivery, WireMessage } from './transport.ts';

/** What a delivery needs from the bus it came from: publishing follow-ups and dead letters. */
export interface DeliveryOrigin {
  readonly source: string;
  /** True once the bus started closing: work that has not started is given back. */
  readonly closing: boolean;
  publishWire(topic: string, messages: readonly WireMessage[]): Promise<void>;
  publish<T>(topic: string, input: import('./event.ts').EventInput<T>): Promise<SwitchyardEvent<T>>;
}

interface DeliveryBase {
  readonly topic: string;
  readonly group: string;
  /** 1-based, from the broker's delivery count where it keeps one. */
  readonly attempt: number;
  /** The message as received, byte for byte. */
  readonly message: WireMessage;
  readonly origin: DeliveryOrigin;
  /** True once ack or nack was called. */
  readonly settled: boolean;
  /** Which settle won: the first ack or nack called (undefined while unsettled). */
  readonly settledAs: 'ack' | 'nack' | undefined;
  /** Settle as done. Only the first ack/nack counts; later calls return the first one's promise. */
  ack(): Promise<void>;
  /** Give back for redelivery, no sooner than `delayMs`. Only the first ack/nack counts. */
  nack(options?: { delayMs?: number }): Promise<void>;
}

export interface EventDelivery<T = unknown> extends DeliveryBase {
  readonly event: SwitchyardEvent<T>;
  readonly invalid?: undefined;
}

/** A message that is not a valid event or fails its schema: handle() dead-letters it as `rejected`. */
export interface InvalidDelivery extends DeliveryBase {
  readonly event?: undefined;
  readonly invalid: Error;
}

export type Delivery<T = unknown> = EventDelivery<T> | InvalidDelivery;

/** Wraps a transport delivery so it is settled exactly once, and reports when that settle finished. */
export class SettleOnce {
  #settle: Promise<void> | undefined;
  readonly #inner: TransportDelivery;
  readonly #onSettled: (self: SettleOnce) => void;

  constructor(inner: TransportDelivery, onSettled: (self: SettleOnce) => void) {
    this.#inner = inner;
    this.#onSettled = onSettled;
  }

  #as: 'ack' | 'nack' | undefined;

  get settled(): boolean {
    return this.#settle !== undefined;
  }

  get settledAs(): 'ack' | 'nack' | undefined {
    return this.#as;
  }

  ack(): Promise<void> {
    if (!this.#settle) {
      this.#as = 'ack';
      this.#settle = this.#track(this.#inner.ack());
    }
    return this.#settle;
  }

  nack(options?: { delayMs?: number }): Promise<void> {
    if (!this.#settle) {
      this.#as = 'nack';
      this.#settle = this.#track(this.#inner.nack(options));
    }
    return this.#settle;
  }

  async #track(settling: Promise<void>): Promise<void> {
    try {
      await settling;
    } finally {
      this.#onSettled(this);
    }
  }
}
