import type { Consumer, ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import { ClosedError } from '@switchyard/core';
import { bounded, type TransportDelivery } from '@switchyard/core/transport';
import type { Subscriber } from 'rxjs';
import type { Connection, ConnectionEvent } from './connection.ts';
import { NatsDelivery } from './delivery.ts';
import { toSwitchyardError } from './errors.ts';
import type { ResolvedOptions } from './options.ts';
import type { Topology } from './topology.ts';

export interface PullSubscriptionParams {
  readonly connection: Connection;
  readonly topology: Topology;
  readonly options: ResolvedOptions;
  readonly topic: string;
  readonly group: string;
  readonly prefetch: number;
  readonly from: 'latest' | 'earliest';
  readonly subscriber: Subscriber<TransportDelivery>;
}

const MAX_BACKOFF_MS = 5_000;

/**
 * End a pull so that nothing the server sent to it is lost. `close()` unsubscribes its inbox at once:
 * messages already on the wire are then dropped by the client and stay leased to nobody until
 * ack_wait (59 of ~1 000 in five leaves in leave.test.ts). Draining the inbox (UNSUB, then a PING
 * round trip) lets them reach the loop in #runPull, which gives them back once the member is
 * released (see #release); nats.js ends the iterator once the drain is done. The subscription is
 * not public API, hence the fallback.
 */
async function endPull(pull: ConsumerMessages): Promise<void> {
  const sub = (pull as unknown as { sub?: { drain?: () => Promise<void>; isClosed?: () => boolean } }).sub;
  try {
    if (sub?.drain && !sub.isClosed?.()) await sub.drain();
    else await pull.close();
  } catch {
    await pull.close().catch(() => {});
  }
}

/**
 * One group member: pulls from the group's durable consumer in batches sized to the free part of
 * `prefetch`, so deliveries handed out and unsettled never exceed it. One pull request is open at a
 * time, which keeps the server's order on the way to the subscriber (per-key order within a member).
 */
export class PullSubscription {
  readonly #p: PullSubscriptionParams;
  readonly #unsettled = new Set<NatsDelivery>();
  /** Stream sequence → delivery count of each unsettled delivery. */
  readonly #held = new Map<number, number>();
  #consumer: Consumer | undefined;
  #pull: ConsumerMessages | undefined;
  /** The pull loop under way (#runPull), if any. */
  #running: Promise<void> | undefined;
  #pulling = false;
  #stopped = false;
  /** Set by stop(): resolves once no pull request of this member is left at the server. */
  #released: Promise<void> | undefined;
  /** Messages that reached the member after it stopped, given back once it is released. */
  #late: JsMsg[] | undefined = [];
  #recovering = false;
  #failures = 0;
  #leaseTimer: NodeJS.Timeout | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #stopListening: (() => void) | undefined;

  constructor(params: PullSubscriptionParams) {
    this.#p = params;
  }

  async start(): Promise<void> {
    try {
      await this.#attach();
    } catch (error) {
      this.#fail(toSwitchyardError(error, `subscribing to '${this.#p.topic}'`));
      return;
    }
    if (this.#stopped) return;
    this.#stopListening = this.#p.connection.on((event) => this.#onConnection(event));
    // Renew leases well within the consumer's ack_wait (the server's value: the group may have
    // been created by a member with other options) so a slow handler keeps its message.
    const ackWaitMs = (await this.#ackWaitMs()) ?? this.#p.options.ackWaitMs;
    if (this.#stopped) return;
    this.#leaseTimer = setInterval(() => this.#renewLeases(), Math.max(250, Math.floor(ackWaitMs / 3)));
    this.#pump();
  }

  /**
   * Stop intake; unsettled deliveries keep working for ack/nack but their leases are no longer
   * renewed, and their naks wait for the returned promise: it resolves (never rejects) once the
   * server holds no pull request of this member any more and what reached it late was given back.
   */
  stop(): Promise<void> {
    if (this.#released) return this.#released;
    this.#stopped = true;
    clearInterval(this.#leaseTimer);
    clearTimeout(this.#retryTimer);
    this.#stopListening?.();
    if (this.#pull) void endPull(this.#pull);
    this.#released = this.#release(this.#pulling ? this.#running : undefined);
    return this.#released;
  }

  /** Stop and tell the subscriber the stream ended (transport closed); resolves as stop() does. */
  complete(): Promise<void> {
    const released = this.stop();
    this.#p.subscriber.complete();
    return released;
  }

  /**
   * nats-server 2.9.10 loses a redelivery it takes up while its only waiting pull requests are ones
   * whose inbox is gone: the message stays leased to nobody until ack_wait, and the stream's last
   * delivered sequence goes out again with count 1. The server drops such a request only when it
   * next checks its waiting requests: at the nearest heartbeat or expiry of one (every
   * pullExpiresMs / 2 here), or when asked for the consumer's info. So once the pull is drained, ask
   * for the info; only then give back (nak) what reached this member late or what it hands back.
   */
  async #release(running: Promise<void> | undefined): Promise<void> {
    const timeoutMs = this.#p.options.requestTimeoutMs;
    if (running !== undefined) {
      await bounded(running, timeoutMs);
      if (this.#consumer !== undefined && !this.#p.connection.closed)
        await bounded(this.#consumer.info(), timeoutMs);
    }
    const late = this.#late ?? [];
    this.#late = undefined;
    for (const msg of late) nakQuietly(msg);
  }

  async #ackWaitMs(): Promise<number | undefined> {
    const info = await this.#consumer?.info(true).catch(() => undefined);
    const nanos = info?.config.ack_wait;
    return nanos ? nanos / 1_000_000 : undefined;
  }

  async #attach(): Promise<void> {
    const { topology, topic, group, from, connection } = this.#p;
    const durable = await topology.ensureConsumer(topic, group, from);
    const { stream } = topology.address(topic);
    this.#consumer = await connection.js.consumers.get(stream, durable);
  }

  #pump(): void {
    if (this.#stopped || this.#recovering || this.#pulling || !this.#p.connection.connected) return;
    const room = this.#p.prefetch - this.#unsettled.size;
    if (room <= 0 || this.#consumer === undefined) return;
    this.#running = this.#runPull(this.#consumer, room);
  }

  async #runPull(consumer: Consumer, count: number): Promise<void> {
    this.#pulling = true;
    let received = 0;
    try {
      const pull = await consumer.fetch({ max_messages: count, expires: this.#p.options.pullExpiresMs });
      this.#pull = pull;
      if (this.#stopped) void endPull(pull);
      for await (const msg of pull) {
        received++;
        if (msg.info.deliveryCount <= (this.#held.get(msg.seq) ?? 0)) {
          // Not a redelivery (its count did not rise) of a message this member still holds: the
          // server sent it again (nats-server 2.9 does, with delivery count 1, while members come
          // and go). The held delivery settles the sequence; a nak would hand it to another
          // member while this one handles it.
          continue;
        }
        // After unsubscribe: give it back once the member is released (see #release), rather than
        // leave it leased to nobody until ack_wait. Past the bound (the client re-pulls after a
        // reconnect): give it back at once, this member's pull is still open.
        if (this.#stopped) {
          if (this.#late) this.#late.push(msg);
          else nakQuietly(msg);
        } else if (received > count) msg.nak();
        else this.#emit(msg);
      }
      this.#failures = 0;
    } catch (error) {
      this.#recover(error);
    } finally {
      this.#pull = undefined;
      this.#pulling = false;
      this.#pump();
    }
  }

  #emit(msg: JsMsg): void {
    const delivery = new NatsDelivery(
      msg,
      this.#p.connection,
      this.#p.options.requestTimeoutMs,
      () => this.#released,
      (settled) => {
        this.#unsettled.delete(settled);
        this.#held.delete(msg.seq);
        this.#pump();
      },
    );
    this.#unsettled.add(delivery);
    this.#held.set(msg.seq, msg.info.deliveryCount);
    this.#p.subscriber.next(delivery);
  }

  #renewLeases(): void {
    if (!this.#p.connection.connected) return;
    for (const delivery of this.#unsettled) delivery.renew();
  }

  #onConnection(event: ConnectionEvent): void {
    if (event === 'disconnect') {
      // The server dropped this pull request with the connection; a new one follows the reconnect.
      void this.#pull?.close().catch(() => {});
    } else if (event === 'reconnect') {
      this.#pump();
    } else if (!this.#stopped) {
      this.#fail(new ClosedError('nats transport'));
    }
  }

  /** After a failed pull: back off, make sure stream and consumer exist (re-creating them), resume. */
  #recover(error: unknown): void {
    if (this.#stopped || this.#recovering) return;
    if (this.#p.connection.closed) {
      this.#fail(new ClosedError('nats transport'));
      return;
    }
    this.#recovering = true;
    const delay = Math.min(MAX_BACKOFF_MS, 100 * 2 ** this.#failures++);
    this.#retryTimer = setTimeout(() => void this.#reattach(error), delay);
  }

  async #reattach(cause: unknown): Promise<void> {
    try {
      // JetStream API requests written while disconnected are dropped by the client: wait first.
      await this.#p.connection.whenConnected(this.#p.options.requestTimeoutMs);
      await this.#attach();
    } catch (error) {
      this.#recovering = false;
      if (error instanceof ClosedError) this.#fail(error);
      else this.#recover(error ?? cause);
      return;
    }
    this.#recovering = false;
    this.#pump();
  }

  #fail(error: Error): void {
    if (this.#stopped) return;
    this.stop();
    this.#p.subscriber.error(error);
  }
}

/** A nak that may find the connection closed: then the message comes back after ack_wait anyway. */
function nakQuietly(msg: JsMsg): void {
  try {
    msg.nak();
  } catch {
    // Closed connection: nothing more can be done from here.
  }
}
