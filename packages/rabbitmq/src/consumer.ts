import { TransportError } from '@switchyard/core';
import type { TransportDelivery } from '@switchyard/core/transport';
import type { Channel, ConsumeMessage } from 'amqplib';
import { fromProperties, notBefore, priorAttempts } from './binding.ts';
import type { ConnectionManager } from './connection.ts';
import { createDelivery } from './delivery.ts';
import { describe } from './errors.ts';
import { exchangeName, queueName } from './names.ts';
import type { ResolvedOptions } from './options.ts';
import type { Retarder } from './retarder.ts';
import type { Topology } from './topology.ts';

export interface ConsumerDeps {
  readonly connection: ConnectionManager;
  readonly topology: Topology;
  readonly retarder: Retarder;
  readonly options: ResolvedOptions;
}

export interface ConsumerTarget {
  readonly next: (delivery: TransportDelivery) => void;
  readonly error: (error: Error) => void;
}

// Reply codes after which consuming again cannot succeed without someone changing the broker.
const REFUSED = new Set([403, 406, 530]);

/**
 * One member of a group: its own channel with `basic.qos(prefetch)` and manual acks on the group's
 * queue. After the channel or connection is lost it consumes again on the next connection; what the
 * dead channel had handed out is the broker's again (it redelivers it) and can no longer be settled.
 */
export class Consumer {
  readonly #deps: ConsumerDeps;
  readonly #topic: string;
  readonly #group: string;
  readonly #queue: string;
  readonly #exchange: string;
  readonly #prefetch: number;
  readonly #target: ConsumerTarget;
  #active = true;
  #channel: Channel | undefined;
  #consumerTag: string | undefined;
  /** Deliveries handed out and not settled, per channel: a stopped consumer's channel closes at zero. */
  readonly #unsettled = new Map<Channel, number>();
  readonly #dead = new WeakSet<Channel>();
  #retry: NodeJS.Timeout | undefined;
  #failures = 0;
  /** Channels between their last settle and close-ok: the transport keeps the connection until then. */
  readonly #channelsClosing = new Set<Channel>();
  readonly #closeWaiters = new Set<() => void>();

  constructor(deps: ConsumerDeps, topic: string, group: string, prefetch: number, target: ConsumerTarget) {
    this.#deps = deps;
    this.#topic = topic;
    this.#group = group;
    this.#queue = queueName(topic, group);
    this.#exchange = exchangeName(topic);
    this.#prefetch = prefetch;
    this.#target = target;
  }

  start(): void {
    void this.#attach();
  }

  /** For `inspect`: its queue, whether it is a consumer on it now, and the deliveries it holds unsettled. */
  held(): { queue: string; consuming: boolean; unsettled: number } {
    let unsettled = 0;
    for (const count of this.#unsettled.values()) unsettled += count;
    return { queue: this.#queue, consuming: this.#active && this.#consumerTag !== undefined, unsettled };
  }

  /** Stop intake at once; the channel stays open until what it handed out is settled or the transport closes. */
  async stop(): Promise<void> {
    if (!this.#active) return;
    this.#active = false;
    clearTimeout(this.#retry);
    const channel = this.#channel;
    const tag = this.#consumerTag;
    if (!channel) return;
    try {
      if (tag !== undefined) await channel.cancel(tag);
    } catch {
      // The channel is already gone: the broker has taken back what it delivered.
    }
    this.#closeIfIdle(channel);
  }

  /**
   * After stop(): resolves once the channel is closed (what it handed out all settled), or after
   * `timeoutMs`. Closing the connection earlier would undo settlements the queue has not applied yet.
   */
  async whenClosed(timeoutMs: number): Promise<void> {
    const open = () =>
      this.#channelsClosing.size > 0 ||
      [...this.#unsettled.keys()].some((channel) => !this.#dead.has(channel));
    if (!open()) return;
    let timer: NodeJS.Timeout | undefined;
    let check: (() => void) | undefined;
    await Promise.race([
      new Promise<void>((resolve) => {
        check = () => {
          if (!open()) resolve();
        };
        this.#closeWaiters.add(check);
      }),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs).unref();
      }),
    ]);
    clearTimeout(timer);
    this.#closeWaiters.delete(check!);
  }

  async #attach(): Promise<void> {
    if (!this.#active) return;
    let channel: Channel | undefined;
    try {
      const model = await this.#deps.connection.whenOpen();
      await this.#deps.topology.ensureGroup(this.#topic, this.#group);
      channel = await model.createChannel();
      channel.on('error', () => {});
      channel.on('close', () => this.#lost(channel!));
      await channel.prefetch(this.#prefetch, false);
      if (!this.#active) {
        await channel.close().catch(() => {});
        return;
      }
      this.#channel = channel;
      const opened = channel;
      const { consumerTag } = await channel.consume(
        this.#queue,
        (message) => this.#receive(opened, message),
        {
          noAck: false,
        },
      );
      this.#consumerTag = consumerTag;
      this.#failures = 0;
      // Unsubscribed while consume was in flight: cancel now that there is a tag.
      if (!this.#active) {
        await channel.cancel(consumerTag).catch(() => {});
        this.#closeIfIdle(channel);
      }
    } catch (error) {
      if (channel) void channel.close().catch(() => {});
      if (!this.#active || this.#deps.connection.closed) return;
      const code = (error as { code?: number }).code ?? (error as { cause?: { code?: number } }).cause?.code;
      if (code !== undefined && REFUSED.has(code)) {
        this.#active = false;
        this.#target.error(
          error instanceof TransportError
            ? error
            : new TransportError(`Cannot consume from ${this.#queue}: ${describe(error)}`, { cause: error }),
        );
        return;
      }
      this.#deps.topology.forget(this.#topic, this.#group);
      this.#scheduleAttach();
    }
  }

  #scheduleAttach(): void {
    if (!this.#active || this.#retry) return;
    const { reconnectInitialMs, reconnectMaxMs } = this.#deps.options;
    const ceiling = Math.min(reconnectMaxMs, reconnectInitialMs * 2 ** this.#failures);
    this.#failures += 1;
    this.#retry = setTimeout(
      () => {
        this.#retry = undefined;
        void this.#attach();
      },
      Math.max(10, Math.round(Math.random() * ceiling)),
    );
  }

  #lost(channel: Channel): void {
    this.#dead.add(channel);
    this.#unsettled.delete(channel);
    this.#channelsClosing.delete(channel);
    for (const check of this.#closeWaiters) check();
    if (this.#channel !== channel) return;
    this.#channel = undefined;
    this.#consumerTag = undefined;
    if (this.#active && !this.#deps.connection.closed) this.#scheduleAttach();
  }

  #receive(channel: Channel, message: ConsumeMessage | null): void {
    if (message === null) {
      // basic.cancel from the broker: the queue was deleted (or its leader moved). Declare it again and consume.
      this.#deps.topology.forget(this.#topic, this.#group);
      if (this.#channel === channel) void channel.close().catch(() => {});
      return;
    }
    if (!this.#active || this.#channel !== channel) {
      // Arrived between our basic.cancel and its cancel-ok: never handed out. Left unacked, it goes
      // back to the queue when the channel closes (see #giveBack).
      if (this.#active) this.#tryNack(channel, message);
      return;
    }
    const due = notBefore(message.properties);
    if (due > Date.now()) {
      this.#hop(channel, message, due);
      return;
    }
    this.#hand(channel, message);
  }

  /** A delayed copy back before its time (delays beyond a tier are served in several hops): one more hop. */
  #hop(channel: Channel, message: ConsumeMessage, due: number): void {
    // Counted as unsettled so that a stopping consumer keeps the channel open until the hop is acked.
    this.#unsettled.set(channel, (this.#unsettled.get(channel) ?? 0) + 1);
    const attempts = priorAttempts(message.properties);
    this.#deps.retarder
      .delay(this.#queue, message, due - Date.now(), attempts, due)
      .then(
        () => this.#tryAck(channel, message),
        () => this.#tryNack(channel, message),
      )
      .finally(() => this.#settled(channel));
  }

  #hand(channel: Channel, message: ConsumeMessage): void {
    const fromTopic = message.fields.exchange === this.#exchange;
    const wire = fromProperties(
      message.properties,
      message.content,
      fromTopic ? message.fields.routingKey : undefined,
    );
    const attempt = priorAttempts(message.properties) + 1;
    this.#unsettled.set(channel, (this.#unsettled.get(channel) ?? 0) + 1);
    this.#target.next(
      createDelivery(wire, attempt, {
        channel,
        message,
        queue: this.#queue,
        retarder: this.#deps.retarder,
        dead: () => this.#dead.has(channel),
        settled: () => this.#settled(channel),
        giveBack: () => this.#giveBack(channel, message),
      }),
    );
  }

  /**
   * Requeue at once while consuming. Once stopped, send nothing: the channel closes as soon as the
   * last delivery is settled and the broker requeues everything left unacked on it. Why: a quorum
   * queue's channel holds back settlements while more than 32 of its commands are pending in Raft
   * (`quorum_commands_soft_limit`) and drops what it held back when the channel closes, so the acks of
   * handlers still running would be undone by the ~prefetch give-backs sent before them
   * (rabbitmq-server#10327; an `acked` outcome came back as a redelivery).
   */
  #giveBack(channel: Channel, message: ConsumeMessage): void {
    if (this.#active) channel.nack(message, false, true);
  }

  #settled(channel: Channel): void {
    const count = (this.#unsettled.get(channel) ?? 1) - 1;
    if (count > 0) this.#unsettled.set(channel, count);
    else this.#unsettled.delete(channel);
    if (!this.#active) this.#closeIfIdle(channel);
  }

  #closeIfIdle(channel: Channel): void {
    if ((this.#unsettled.get(channel) ?? 0) > 0 || this.#dead.has(channel)) return;
    if (this.#channel === channel) {
      this.#channel = undefined;
      this.#consumerTag = undefined;
    }
    this.#dead.add(channel);
    this.#channelsClosing.add(channel);
    void this.#close(channel);
  }

  /**
   * A synchronous round trip (basic.qos) first: its reply comes after the broker has processed every
   * ack written before it, and gives the queue time to apply them before the channel goes.
   */
  async #close(channel: Channel): Promise<void> {
    try {
      await channel.prefetch(this.#prefetch, false);
    } catch {
      // The channel is gone already: nothing is left to settle on it.
    }
    await channel.close().catch(() => {});
    this.#channelsClosing.delete(channel);
    for (const check of this.#closeWaiters) check();
  }

  #tryAck(channel: Channel, message: ConsumeMessage): void {
    try {
      if (!this.#dead.has(channel)) channel.ack(message);
    } catch {
      // Channel gone: the broker requeues the message; the hop copy makes it a duplicate at worst.
    }
  }

  #tryNack(channel: Channel, message: ConsumeMessage): void {
    try {
      if (!this.#dead.has(channel)) channel.nack(message, false, true);
    } catch {
      // Channel gone: the broker requeues it anyway.
    }
  }
}
