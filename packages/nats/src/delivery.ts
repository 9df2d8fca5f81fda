import type { JsMsg } from '@nats-io/jetstream';
import { ClosedError, TransportError } from '@switchyard/core';
import { SettleOnce } from '@switchyard/core/transport';
import { fromNats } from './binding.ts';
import type { Connection } from './connection.ts';
import { toSwitchyardError } from './errors.ts';

const LOST = Symbol('connection lost');

/** One JetStream message handed to a group member, settled at most once. */
export class NatsDelivery extends SettleOnce {
  readonly #msg: JsMsg;
  readonly #connection: Connection;
  readonly #epoch: number;
  readonly #timeoutMs: number;
  readonly #released: () => Promise<void> | undefined;
  readonly #onSettled: (delivery: NatsDelivery) => void;

  constructor(
    msg: JsMsg,
    connection: Connection,
    timeoutMs: number,
    released: () => Promise<void> | undefined,
    onSettled: (delivery: NatsDelivery) => void,
  ) {
    super(fromNats(msg.headers, msg.data), Math.max(1, msg.info.deliveryCount));
    this.#msg = msg;
    this.#connection = connection;
    this.#epoch = connection.epoch;
    this.#timeoutMs = timeoutMs;
    this.#released = released;
    this.#onSettled = onSettled;
  }

  /** Resolves once the server confirmed the ack (a double ack), so an acked message is never redelivered. */
  protected settleAck(): Promise<void> {
    return this.#settleWith('ack', () =>
      this.#msg.ackAck({ timeout: this.#timeoutMs }).then(() => undefined),
    );
  }

  /**
   * `-NAK` with the server-side delay; resolves once the server has read it (as `ack`). From a member
   * that stopped, only once the server holds no pull request of it any more (see PullSubscription's
   * release): nats-server 2.9.10 could lose the redelivery to such a request until ack_wait.
   */
  protected async settleNack(delayMs: number): Promise<void> {
    await this.#released();
    return this.#settleWith('nack', () => {
      this.#msg.nak(delayMs > 0 ? Math.ceil(delayMs) : undefined);
      return this.#connection.confirm(this.#timeoutMs);
    });
  }

  /** Keep the lease (reset `ack_wait`) while unsettled and still on the connection it arrived on. */
  renew(): void {
    if (!this.settled && this.#epoch === this.#connection.epoch) this.#msg.working();
  }

  async #settleWith(what: string, send: () => Promise<void>): Promise<void> {
    // The member's prefetch slot frees once the server has answered (or the attempt failed), not
    // when ack() is called: until then the delivery is unsettled, and prefetch bounds those.
    try {
      await this.#send(what, send);
    } finally {
      this.#onSettled(this);
    }
  }

  async #send(what: string, send: () => Promise<void>): Promise<void> {
    if (this.#connection.closed) throw new ClosedError('nats transport');
    if (this.#epoch !== this.#connection.epoch) {
      // The server forgot the lease with the old connection and redelivers the message after
      // ack_wait; settling it from a new connection could settle someone else's redelivery.
      throw new TransportError(
        `Cannot ${what}: the connection this message arrived on was lost; it will be redelivered`,
      );
    }
    const { lost, cancel } = this.#connection.lostSince(this.#epoch);
    const sending = send();
    // If the connection is lost first, the abandoned request still settles later, unobserved.
    sending.catch(() => {});
    try {
      await Promise.race([sending, lost.then(() => Promise.reject(LOST))]);
    } catch (error) {
      if (error === LOST) {
        throw new TransportError(`Connection lost during ${what}; the message may be redelivered`);
      }
      throw toSwitchyardError(error, what);
    } finally {
      cancel();
    }
  }
}
