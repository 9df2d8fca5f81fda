import type { SwitchyardEvent } from './event.ts';
import { SETTLED_NOW } from './kit/settle-once.ts';
import type { Instrumentation } from './ops/instrumentation.ts';
import type { Transport, TransportDelivery, WireMessage } from './transport.ts';

/** What a delivery needs from the bus it came from: publishing follow-ups and dead letters. */
export interface DeliveryOrigin {
  readonly source: string;
  /** True once the bus started closing: work that has not started is given back. */
  readonly closing: boolean;
  publishWire(topic: string, messages: readonly WireMessage[]): Promise<void>;
  publish<T>(topic: string, input: import('./event.ts').EventInput<T>): Promise<SwitchyardEvent<T>>;
  /**
   * The event `publish` would send (id, time, source, dataversion; schema checked), without sending
   * it: for a follow-up written into a transaction's outbox instead.
   */
  buildEvent<T>(input: import('./event.ts').EventInput<T>): Promise<SwitchyardEvent<T>>;
  /** Told of each delivery handle() takes (tracing, metrics); a bus's, see `Bus.instrument`. */
  readonly instrumentation?: Instrumentation | undefined;
  /**
   * The broker behind it (a `Bus` has one): the dead-letter policy provisions the DLQ's
   * DEAD_LETTER_GROUP through it, so dead letters are kept where no group would otherwise exist.
   */
  readonly transport?: Pick<Transport, 'provision' | 'capabilities'>;
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
  /**
   * Aborted when the bus gives this delivery back for redelivery at close()'s `drainTimeoutMs`
   * (undefined where nothing does): a handler's `signal` follows it, so work that will run again
   * elsewhere can stop.
   */
  readonly givenBack?: AbortSignal;
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

/**
 * The delivery the bus hands out: the transport's delivery, decoded, settled exactly once. The bus
 * learns through `onSettled` when the settle finished, so close() can wait for it.
 * One object per delivery, methods on the prototype: no closures per message.
 */
export class BusDelivery<T = unknown> {
  readonly topic: string;
  readonly group: string;
  readonly attempt: number;
  readonly message: WireMessage;
  readonly origin: DeliveryOrigin;
  event: SwitchyardEvent<T> | undefined = undefined;
  invalid: Error | undefined = undefined;
  readonly #inner: TransportDelivery;
  readonly #onSettled: (self: BusDelivery) => void;
  /** The prefetch of the subscription this delivery came through. */
  readonly #prefetch: number;
  #settle: Promise<void> | undefined = undefined;
  #as: 'ack' | 'nack' | undefined = undefined;
  // Links in the bus's list of unsettled deliveries (see Unsettled).
  #prev: BusDelivery | undefined = undefined;
  #next: BusDelivery | undefined = undefined;

  constructor(
    topic: string,
    group: string,
    inner: TransportDelivery,
    origin: DeliveryOrigin,
    onSettled: (self: BusDelivery) => void,
    prefetch: number,
  ) {
    this.topic = topic;
    this.group = group;
    this.attempt = inner.attempt;
    this.message = inner.message;
    this.origin = origin;
    this.#inner = inner;
    this.#onSettled = onSettled;
    this.#prefetch = prefetch;
  }

  /** The prefetch of the subscription `delivery` came through, if it is a bus's delivery. */
  static prefetchOf(delivery: unknown): number | undefined {
    return delivery instanceof BusDelivery ? delivery.#prefetch : undefined;
  }

  get settled(): boolean {
    return this.#settle !== undefined;
  }

  /** Made on first read: most handlers never look at their signal. */
  #givingBack: AbortController | undefined = undefined;

  get givenBack(): AbortSignal {
    this.#givingBack ??= new AbortController();
    return this.#givingBack.signal;
  }

  /** Past close()'s deadline: abort `givenBack` (if anyone reads it), then nack for redelivery. */
  giveBack(reason: Error): Promise<void> {
    if (this.#settle === undefined) this.#givingBack?.abort(reason);
    return this.nack();
  }

  get settledAs(): 'ack' | 'nack' | undefined {
    return this.#as;
  }

  ack(): Promise<void> {
    if (this.#settle === undefined) {
      this.#as = 'ack';
      let settling: Promise<void>;
      try {
        settling = this.#inner.ack();
      } catch (error) {
        settling = Promise.reject(error);
      }
      this.#settle = this.#track(settling);
    }
    return this.#settle;
  }

  nack(options?: { delayMs?: number }): Promise<void> {
    if (this.#settle === undefined) {
      this.#as = 'nack';
      let settling: Promise<void>;
      try {
        settling = this.#inner.nack(options);
      } catch (error) {
        settling = Promise.reject(error);
      }
      this.#settle = this.#track(settling);
    }
    return this.#settle;
  }

  /** A settle the transport finished already (SETTLED_NOW) is done here and now, without a microtask. */
  #track(settling: Promise<void> | undefined): Promise<void> {
    if (settling === SETTLED_NOW) {
      this.#onSettled(this as BusDelivery);
      return SETTLED_NOW;
    }
    // A transport may return void.
    return Promise.resolve(settling).then(
      () => this.#onSettled(this as BusDelivery),
      (error: unknown) => {
        this.#onSettled(this as BusDelivery);
        throw error;
      },
    );
  }

  /** Append `delivery` to `list` (Unsettled's storage). */
  static link(list: UnsettledList, delivery: BusDelivery): void {
    delivery.#prev = list.tail;
    if (list.tail === undefined) list.head = delivery;
    else list.tail.#next = delivery;
    list.tail = delivery;
    list.size += 1;
  }

  /** Take `delivery` out of `list`; false if it was not in it. */
  static unlink(list: UnsettledList, delivery: BusDelivery): boolean {
    const prev = delivery.#prev;
    const next = delivery.#next;
    if (prev === undefined && list.head !== delivery) return false;
    if (prev === undefined) list.head = next;
    else prev.#next = next;
    if (next === undefined) list.tail = prev;
    else next.#prev = prev;
    delivery.#prev = undefined;
    delivery.#next = undefined;
    list.size -= 1;
    return true;
  }

  static after(delivery: BusDelivery): BusDelivery | undefined {
    return delivery.#next;
  }
}

interface UnsettledList {
  head: BusDelivery | undefined;
  tail: BusDelivery | undefined;
  size: number;
}

/**
 * The deliveries a bus handed out and not yet settled, oldest first: a linked list, O(1) in and
 * out without hashing.
 */
export class Unsettled {
  readonly #list: UnsettledList = { head: undefined, tail: undefined, size: 0 };

  get size(): number {
    return this.#list.size;
  }

  add(delivery: BusDelivery): void {
    BusDelivery.link(this.#list, delivery);
  }

  delete(delivery: BusDelivery): boolean {
    return BusDelivery.unlink(this.#list, delivery);
  }

  toArray(): BusDelivery[] {
    const all: BusDelivery[] = [];
    for (let d = this.#list.head; d !== undefined; d = BusDelivery.after(d)) all.push(d);
    return all;
  }
}
