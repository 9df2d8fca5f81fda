import { MessageTooLargeError, UnsupportedOptionError } from '@switchyard/core';
import {
  assertGroupName,
  assertTopicName,
  type Capabilities,
  type GroupStats,
  Lifecycle,
  type SubscribeOptions,
  settleSends,
  type Transport,
  type TransportDelivery,
  type WireMessage,
} from '@switchyard/core/transport';
import { Observable } from 'rxjs';
import { headerTableBytes, MAX_HEADER_TABLE_BYTES, toPublishOptions } from './binding.ts';
import { ConnectionManager } from './connection.ts';
import { Consumer } from './consumer.ts';
import { inspectRabbitMq } from './inspect.ts';
import { ManagementApi } from './management.ts';
import { exchangeName, routingKeyOf } from './names.ts';
import { checkUrl, type RabbitMqOptions, type ResolvedOptions, resolveOptions } from './options.ts';
import { peekRabbit } from './peek.ts';
import { Publisher } from './publisher.ts';
import { Retarder } from './retarder.ts';
import { Topology } from './topology.ts';

/** How long close() waits for leaving consumers' channels to close after their last settle. */
const CHANNEL_CLOSE_BOUND_MS = 5_000;
/** A consumer whose channel never closes (deliveries never settled) is forgotten after this. */
const LEAVING_FORGOTTEN_MS = 600_000;

/**
 * RabbitMQ through amqplib: a topic is a durable topic exchange, a group a durable quorum queue bound
 * to it with `#`, the event's key the routing key. See the package README for the whole mapping.
 */
export class RabbitMqTransport implements Transport {
  readonly name = 'rabbitmq';
  readonly capabilities: Capabilities;
  readonly options: ResolvedOptions;
  readonly #connection: ConnectionManager;
  /** The consumers' connection, opened with the first subscription (see the constructor). */
  readonly #consuming: ConnectionManager;
  readonly #topology: Topology;
  readonly #publisher: Publisher;
  readonly #retarder: Retarder;
  readonly #life = new Lifecycle<Consumer>('RabbitMQ transport');
  /** Unsubscribed consumers whose channel is still open for settling. */
  readonly #leaving = new Set<Consumer>();
  /** The management HTTP API when `managementUrl` is set (for inspect). */
  readonly #management: ManagementApi | undefined;
  readonly #url: string;
  /** inspect()'s own connection without it (see #inspector). */
  #inspection: { connection: ConnectionManager; topology: Promise<Topology> } | undefined;

  /** Use `RabbitMqTransport.create` (or `connect()` from core): the constructor does not connect. */
  constructor(url: string, options?: RabbitMqOptions) {
    checkUrl(url);
    this.#url = url;
    this.options = resolveOptions(options, url);
    this.capabilities = {
      consumerGroups: true,
      // Single active consumer hands the whole queue to one member at a time.
      keyOrderWithinMember: true,
      keyOrderAcrossMembers: this.options.singleActiveConsumer,
      // Delay queues on the broker hold a nacked message; this process keeps nothing.
      nativeDelay: true,
      persistence: true,
      shared: true,
      // A queue holds what arrived after it was bound; there is no log to replay.
      replay: false,
      maxMessageBytes: this.options.maxMessageBytes,
    };
    this.#connection = new ConnectionManager(url, this.options);
    // Consumers get a connection of their own, as RabbitMQ advises: a `connection.blocked`
    // publisher no longer holds up its consumers' acks, the broker reads publishes and acks in two
    // processes, and with Nagle on (`noDelay: false`) a basic.ack, which the broker never answers,
    // no longer holds the next publish until the broker's delayed ACK (p50 22 ms, p99 43 ms at
    // 200 ev/s in the bench when they shared one socket).
    this.#consuming = new ConnectionManager(url, this.options);
    this.#topology = new Topology(this.#connection, this.options);
    this.#publisher = new Publisher(this.#connection, this.options.publishTimeoutMs);
    this.#retarder = new Retarder(this.#publisher, this.#topology, this.options);
    this.#management =
      this.options.managementUrl === undefined
        ? undefined
        : new ManagementApi(this.options.managementUrl, url);
  }

  /** Connect and return the transport; rejects with `TransportError` (URL redacted) if the broker is unreachable. */
  static async create(url: URL | string, options?: RabbitMqOptions): Promise<RabbitMqTransport> {
    const transport = new RabbitMqTransport(url.toString(), options);
    await transport.#connection.start();
    return transport;
  }

  async publish(topic: string, messages: readonly WireMessage[]): Promise<void> {
    this.#life.assertOpen();
    // The declared limit is core's to check (the bus, before any transport); here only AMQP's own:
    // the headers table travels in one frame.
    for (let index = 0; index < messages.length; index++) {
      const message = messages[index]!;
      // From lengths alone first; every character counted only when that is over.
      const bound = headerTableBytes(message, false);
      const headerBytes = bound <= MAX_HEADER_TABLE_BYTES ? bound : headerTableBytes(message, true);
      if (headerBytes > MAX_HEADER_TABLE_BYTES)
        throw new MessageTooLargeError(headerBytes, MAX_HEADER_TABLE_BYTES, index);
    }
    const exchange = exchangeName(topic);
    const prepare = () => this.#topology.ensureExchange(topic);
    const forget = () => this.#topology.forget(topic);
    await settleSends(
      messages.map((message) =>
        this.#publisher.publish({
          exchange,
          routingKey: routingKeyOf(message.key),
          // A copy: the send may happen after a reconnect, when the caller may have reused its buffer.
          content: Buffer.from(message.body),
          options: toPublishOptions(message),
          prepare,
          forget,
          mandatory: this.options.requireRoute,
        }),
      ),
    );
  }

  async provision(topic: string, group?: string, from?: 'latest' | 'earliest'): Promise<void> {
    this.#life.assertOpen();
    if (group === undefined) assertTopicName(topic);
    else assertGroupName(topic, group);
    if (group === undefined) return this.#topology.ensureExchange(topic);
    if (from === 'earliest') await this.#refuseReplay(topic, group);
    await this.#topology.ensureGroup(topic, group);
  }

  /** Operations (#23): the group's ready messages, received on a channel of its own and given back unacked. */
  peek(topic: string, group: string, limit: number) {
    this.#life.assertOpen();
    assertGroupName(topic, group);
    return peekRabbit(this.#connection, this.options, topic, group, limit);
  }

  subscribe(topic: string, options: SubscribeOptions): Observable<TransportDelivery> {
    return new Observable<TransportDelivery>((subscriber) => {
      if (this.#life.closed) {
        subscriber.error(this.#life.closedError());
        return;
      }
      assertGroupName(topic, options.group);
      const consumer = new Consumer(
        {
          connection: this.#consuming,
          topology: this.#topology,
          retarder: this.#retarder,
          options: this.options,
        },
        topic,
        options.group,
        options.prefetch,
        { next: (delivery) => subscriber.next(delivery), error: (error) => subscriber.error(error) },
      );
      this.#life.members.add(consumer);
      const starting =
        options.from === 'earliest' ? this.#refuseReplay(topic, options.group) : Promise.resolve();
      starting.then(
        () => {
          if (!subscriber.closed) consumer.start();
        },
        (error: Error) => subscriber.error(error),
      );
      return () => {
        this.#life.members.delete(consumer);
        // Its channel stays open until what it handed out is settled; close() waits for that (bounded).
        this.#leaving.add(consumer);
        void consumer
          .stop()
          .then(() => consumer.whenClosed(LEAVING_FORGOTTEN_MS))
          .finally(() => this.#leaving.delete(consumer));
      };
    });
  }

  /** `from: 'earliest'` can only be honoured by a group that exists already (it keeps its backlog). */
  async #refuseReplay(topic: string, group: string): Promise<void> {
    if (await this.#topology.groupExists(topic, group)) return;
    throw new UnsupportedOptionError(
      `RabbitMQ cannot start the new group '${group}' from the earliest message: a queue only holds ` +
        'what was published after it was bound. Provision the group before publishing instead.',
    );
  }

  /** Operations (#23): ready + unacked from the management API when configured, else what AMQP tells. */
  async inspect(topic: string, group: string): Promise<GroupStats> {
    this.#life.assertOpen();
    assertGroupName(topic, group);
    const local = [...this.#life.members, ...this.#leaving].map((consumer) => consumer.held());
    const topology = this.#management === undefined ? await this.#inspector() : this.#topology;
    return inspectRabbitMq(topology, this.#management, local, topic, group);
  }

  /**
   * Passive declares on a connection of their own, opened on first use: a queue not there yet (a
   * dead-letter queue before its first letter) answers 404 by closing the channel, which must not
   * disturb the publishing connection (and with Nagle on, every write after that close waited out
   * the broker's delayed ACK, 40 ms).
   */
  #inspector(): Promise<Topology> {
    if (this.#inspection === undefined) {
      const options = { ...this.options, connectionName: `${this.options.connectionName}.inspect` };
      const connection = new ConnectionManager(this.#url, options);
      const inspection = {
        connection,
        topology: connection.start().then(() => new Topology(connection, options)),
      };
      inspection.topology.catch(() => {
        if (this.#inspection === inspection) this.#inspection = undefined;
      });
      this.#inspection = inspection;
    }
    return this.#inspection.topology;
  }

  close(): Promise<void> {
    return this.#life.close(
      (consumer) => {
        this.#leaving.add(consumer);
        return consumer.stop();
      },
      async () => {
        // Settled deliveries are only final once their channel closed cleanly (see Consumer#giveBack);
        // what is still unsettled after the bound goes back to the queue with the connection.
        const leaving = [...this.#leaving];
        await Promise.allSettled(leaving.map((consumer) => consumer.whenClosed(CHANNEL_CLOSE_BOUND_MS)));
        this.#leaving.clear();
        await this.#publisher.close();
        await this.#inspection?.connection.close();
        // Closing the connections hands every delivery that was not settled back to its queue.
        await this.#consuming.close();
        await this.#connection.close();
      },
    );
  }
}
