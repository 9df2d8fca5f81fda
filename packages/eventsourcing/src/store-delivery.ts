import type { DeliveryOrigin, SwitchyardEvent, WireMessage } from '@switchyard/core';
import { encode } from '@switchyard/core/transport';

/** Where a subscription learns that one of its deliveries was settled. */
export interface SettleSink {
  settled(delivery: StoreDelivery, as: 'ack' | 'nack', delayMs: number | undefined): Promise<void>;
}

/**
 * A delivery from an event-store subscription, settled exactly once like a bus's: the first
 * ack/nack wins, later calls return its promise. The wire form is built only if someone reads it
 * (a dead letter does), so catching up does not encode every event.
 */
export class StoreDelivery<T = unknown> {
  readonly topic: string;
  readonly group: string;
  readonly attempt: number;
  readonly origin: DeliveryOrigin;
  readonly event: SwitchyardEvent<T> | undefined;
  readonly invalid: Error | undefined;
  /** The event as read from the log (before upcasting); the wire form is built from it. */
  readonly raw: SwitchyardEvent;
  /** Index of this event in its subscription's window. */
  readonly slot: number;
  readonly #sink: SettleSink;
  #message: WireMessage | undefined = undefined;
  #settle: Promise<void> | undefined = undefined;
  #as: 'ack' | 'nack' | undefined = undefined;

  constructor(
    topic: string,
    group: string,
    attempt: number,
    origin: DeliveryOrigin,
    raw: SwitchyardEvent,
    upcast: SwitchyardEvent<T> | Error,
    slot: number,
    sink: SettleSink,
  ) {
    this.topic = topic;
    this.group = group;
    this.attempt = attempt;
    this.origin = origin;
    this.raw = raw;
    if (upcast instanceof Error) {
      this.event = undefined;
      this.invalid = upcast;
    } else {
      this.event = upcast;
      this.invalid = undefined;
    }
    this.slot = slot;
    this.#sink = sink;
  }

  get message(): WireMessage {
    this.#message ??= encode(this.raw);
    return this.#message;
  }

  get settled(): boolean {
    return this.#settle !== undefined;
  }

  get settledAs(): 'ack' | 'nack' | undefined {
    return this.#as;
  }

  ack(): Promise<void> {
    if (this.#settle === undefined) {
      this.#as = 'ack';
      this.#settle = this.#sink.settled(this, 'ack', undefined);
    }
    return this.#settle;
  }

  nack(options?: { delayMs?: number }): Promise<void> {
    if (this.#settle === undefined) {
      this.#as = 'nack';
      this.#settle = this.#sink.settled(this, 'nack', options?.delayMs);
    }
    return this.#settle;
  }
}
