import { TransportError } from '@switchyard/core';
import type { Channel, ChannelModel } from 'amqplib';
import type { ConnectionManager } from './connection.ts';
import { describe } from './errors.ts';
import { delayName, exchangeName, queueName } from './names.ts';
import type { ResolvedOptions } from './options.ts';

/**
 * Declares exchanges, queues and bindings, each once per connection: a reconnect re-declares what is
 * used again (a broker restart without persistence, or someone deleting a queue, is repaired on the
 * next use). Declarations are idempotent on the broker, so concurrent callers are harmless.
 */
export class Topology {
  readonly #connection: ConnectionManager;
  readonly #options: ResolvedOptions;
  #model: ChannelModel | undefined;
  #channel: Promise<Channel> | undefined;
  readonly #declared = new Map<string, Promise<void>>();

  constructor(connection: ConnectionManager, options: ResolvedOptions) {
    this.#connection = connection;
    this.#options = options;
  }

  ensureExchange(topic: string): Promise<void> {
    const exchange = exchangeName(topic);
    return this.#once(`e:${exchange}`, async (channel) => {
      await channel.assertExchange(exchange, 'topic', { durable: true });
    });
  }

  /** The group's queue, bound to every routing key of the topic; messages published before this are not in it. */
  ensureGroup(topic: string, group: string): Promise<void> {
    const exchange = exchangeName(topic);
    const queue = queueName(topic, group);
    return this.#once(`q:${queue}`, async (channel) => {
      await channel.assertExchange(exchange, 'topic', { durable: true });
      await channel.assertQueue(queue, { durable: true, arguments: this.queueArguments() });
      await channel.bindQueue(queue, exchange, '#');
    });
  }

  queueArguments(): Record<string, unknown> {
    return {
      'x-queue-type': 'quorum',
      ...(this.#options.singleActiveConsumer ? { 'x-single-active-consumer': true } : {}),
    };
  }

  /**
   * A delay tier: a fanout exchange into a queue whose messages expire after `tierMs` and are then
   * dead-lettered to the default exchange, which routes them by their routing key, the name of the
   * group queue they came from. One queue per tier; every message in it has the same TTL, so the
   * head always expires first and nothing waits behind a longer delay.
   */
  ensureDelayTier(tierMs: number): Promise<void> {
    const name = delayName(this.#options.namespace, tierMs);
    return this.#once(`d:${name}`, async (channel) => {
      await channel.assertExchange(name, 'fanout', { durable: true });
      await channel.assertQueue(name, {
        durable: true,
        arguments: { 'x-message-ttl': tierMs, 'x-dead-letter-exchange': '' },
      });
      await channel.bindQueue(name, name, '');
    });
  }

  /** Whether a group's queue exists; on a throwaway channel, since a failed check closes its channel. */
  async groupExists(topic: string, group: string): Promise<boolean> {
    return (await this.checkGroup(topic, group)) !== undefined;
  }

  /** A group queue's ready messages and consumers (passive declare); undefined when it does not exist. */
  async checkGroup(
    topic: string,
    group: string,
  ): Promise<{ messageCount: number; consumerCount: number } | undefined> {
    const queue = queueName(topic, group);
    return this.#check(`queue ${queue}`, (channel) => channel.checkQueue(queue));
  }

  /** Whether the topic's exchange exists. */
  async topicExists(topic: string): Promise<boolean> {
    const exchange = exchangeName(topic);
    return (
      (await this.#check(`exchange ${exchange}`, (channel) => channel.checkExchange(exchange))) !== undefined
    );
  }

  async #check<T>(what: string, check: (channel: Channel) => Promise<T>): Promise<T | undefined> {
    const model = await this.#connection.whenOpen();
    const channel = await model.createChannel();
    channel.on('error', () => {});
    try {
      return await check(channel);
    } catch (error) {
      if ((error as { code?: number }).code === 404) return undefined;
      throw new TransportError(`Cannot check ${what}: ${describe(error)}`, { cause: error });
    } finally {
      await channel.close().catch(() => {});
    }
  }

  /** Declare again on next use: something that was declared has gone (queue deleted, consumer cancelled). */
  forget(topic: string, group?: string): void {
    if (group === undefined) this.#declared.delete(`e:${exchangeName(topic)}`);
    else this.#declared.delete(`q:${queueName(topic, group)}`);
  }

  #once(id: string, declare: (channel: Channel) => Promise<void>): Promise<void> {
    const model = this.#connection.current;
    if (model !== this.#model) {
      // A new connection: what the old one declared may be gone (a broker restart loses transient state).
      this.#model = model;
      this.#declared.clear();
      this.#channel = undefined;
    }
    let declared = this.#declared.get(id);
    if (!declared) {
      declared = this.#run(declare);
      this.#declared.set(id, declared);
      declared.catch(() => {
        if (this.#declared.get(id) === declared) this.#declared.delete(id);
      });
    }
    return declared;
  }

  async #run(declare: (channel: Channel) => Promise<void>): Promise<void> {
    const channel = await this.#adminChannel();
    try {
      await declare(channel);
    } catch (error) {
      const code = (error as { code?: number }).code;
      const hint =
        code === 406
          ? ' (it exists with other settings: an exchange of another type, or a queue with other arguments)'
          : code === 403
            ? ' (access refused: check the user permissions on this vhost)'
            : '';
      throw new TransportError(`RabbitMQ refused a declaration${hint}: ${describe(error)}`, { cause: error });
    }
  }

  #adminChannel(): Promise<Channel> {
    if (!this.#channel) {
      const opening = this.#connection.whenOpen().then(async (model) => {
        const channel = await model.createChannel();
        // A refused declaration closes the channel (406, 403...): open a fresh one next time.
        channel.on('error', () => {});
        channel.on('close', () => {
          if (this.#channel === opening) this.#channel = undefined;
        });
        return channel;
      });
      opening.catch(() => {
        if (this.#channel === opening) this.#channel = undefined;
      });
      this.#channel = opening;
    }
    return this.#channel;
  }
}
