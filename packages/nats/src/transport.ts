import { MessageTooLargeError, UnsupportedOptionError } from '@switchyard/core';
import {
  assertGroupName,
  assertTopicName,
  bounded,
  type Capabilities,
  type GroupStats,
  Lifecycle,
  type PublishReceipt,
  type SubscribeOptions,
  settleSends,
  type Transport,
  type TransportDelivery,
  type WireMessage,
} from '@switchyard/core/transport';
import { Observable } from 'rxjs';
import { toNatsHeaders, wireSize } from './binding.ts';
import { Connection } from './connection.ts';
import { PullSubscription } from './consumer.ts';
import { toSwitchyardError } from './errors.ts';
import { inspectNats } from './inspect.ts';
import { checkUrl, type NatsOptions, type ResolvedOptions, resolveOptions } from './options.ts';
import { peekNats } from './peek.ts';
import { Publisher } from './publisher.ts';
import { Topology } from './topology.ts';

/**
 * Room left under the server's `max_payload` for what the wire adds to `encodedSize()`: the header
 * block's framing (`ce-` prefixes, `: `, CRLFs), `Nats-Msg-Id`, and the transport's own headers.
 */
const HEADER_ALLOWANCE = 4_096;
const CLOSE_FLUSH_MS = 2_000;

/** Switchyard on NATS JetStream: topic → stream + subject, group → durable pull consumer. */
export class NatsTransport implements Transport {
  readonly name = 'nats';
  readonly capabilities: Capabilities;
  readonly #connection: Connection;
  readonly #topology: Topology;
  readonly #options: ResolvedOptions;
  readonly #maxPayload: number;
  readonly #publisher: Publisher;
  readonly #life = new Lifecycle<PullSubscription>('nats transport');
  /** Members that left and are still giving back what reached them late (see PullSubscription). */
  readonly #releasing = new Set<Promise<void>>();

  private constructor(connection: Connection, options: ResolvedOptions) {
    this.#connection = connection;
    this.#options = options;
    this.#topology = new Topology(connection.jsm, options);
    this.#publisher = new Publisher(connection, this.#topology, options);
    this.#maxPayload = connection.nc.info?.max_payload ?? 1_048_576;
    this.capabilities = {
      consumerGroups: true,
      // Members of a group pull from one consumer in turn; a key is not pinned to a member.
      keyOrderWithinMember: true,
      keyOrderAcrossMembers: false,
      nativeDelay: true,
      persistence: true,
      shared: true,
      replay: true,
      maxMessageBytes: this.#maxPayload - HEADER_ALLOWANCE,
    };
  }

  /** Connect to the server in `url` (`nats://[user:pass@|token@]host:port`). */
  static async create(url: URL | string, options?: NatsOptions): Promise<NatsTransport> {
    const resolved = resolveOptions(options);
    const parsed = new URL(url);
    checkUrl(parsed);
    return new NatsTransport(await Connection.open(parsed, resolved), resolved);
  }

  /**
   * Resolves when the stream's PubAck arrived for every message, naming those the stream dropped
   * as repeats of an event id (`Nats-Msg-Id`) within its duplicate window.
   */
  async publish(topic: string, messages: readonly WireMessage[]): Promise<PublishReceipt | undefined> {
    this.#assertOpen();
    if (messages.length === 0) return undefined;
    // The declared limit is core's to check (the bus, before any transport); here only what the
    // server measures: headers and payload against its max_payload.
    const prepared = messages.map((message, index) => {
      const headers = toNatsHeaders(message);
      const size = wireSize(headers, message.body);
      if (size > this.#maxPayload) throw new MessageTooLargeError(size, this.#maxPayload, index);
      return headers;
    });
    const { subject } = await this.#topology.ensureStream(topic);
    // Pipelined on one connection, so the stream stores them in the order given.
    const sends = messages.map((message, index) =>
      this.#publisher.publish(topic, subject, message.body, prepared[index]!),
    );
    await settleSends(sends, (reason) => toSwitchyardError(reason, `publishing to '${topic}'`));
    const duplicates: number[] = [];
    for (let index = 0; index < sends.length; index++)
      if ((await sends[index]) === 'duplicate') duplicates.push(index);
    return duplicates.length > 0 ? { duplicates } : undefined;
  }

  async provision(topic: string, group?: string, from?: 'latest' | 'earliest'): Promise<void> {
    this.#assertOpen();
    if (group === undefined) assertTopicName(topic);
    else assertGroupName(topic, group);
    if (group === undefined) await this.#topology.ensureStream(topic);
    else await this.#topology.ensureConsumer(topic, group, from);
  }

  /** Operations (#23): the group's unsettled messages, read from its ack floor without consuming. */
  peek(topic: string, group: string, limit: number) {
    this.#assertOpen();
    assertGroupName(topic, group);
    return peekNats(this.#connection, this.#topology, topic, group, limit);
  }

  subscribe(topic: string, options: SubscribeOptions): Observable<TransportDelivery> {
    return new Observable<TransportDelivery>((subscriber) => {
      if (this.#life.closed) {
        subscriber.error(this.#life.closedError());
        return;
      }
      assertGroupName(topic, options.group);
      if (!Number.isInteger(options.prefetch) || options.prefetch < 1) {
        subscriber.error(
          new UnsupportedOptionError(`prefetch must be a positive integer, got ${options.prefetch}`),
        );
        return;
      }
      const subscription = new PullSubscription({
        connection: this.#connection,
        topology: this.#topology,
        options: this.#options,
        topic,
        group: options.group,
        prefetch: options.prefetch,
        from: options.from ?? 'latest',
        subscriber,
      });
      this.#life.members.add(subscription);
      void subscription.start();
      return () => {
        const released = subscription.stop();
        this.#releasing.add(released);
        void released.then(() => this.#releasing.delete(released));
        this.#life.members.delete(subscription);
      };
    });
  }

  /** Operations (#23): the durable consumer's num_pending + num_ack_pending, ack floor, oldest age. */
  inspect(topic: string, group: string): Promise<GroupStats> {
    this.#assertOpen();
    assertGroupName(topic, group);
    return inspectNats(this.#connection.jsm, this.#topology, topic, group);
  }

  /**
   * Ends every subscription, lets members that left give back what reached them late, flushes what is
   * buffered and closes the connection. Idempotent.
   */
  close(): Promise<void> {
    return this.#life.close(
      (subscription) => bounded(subscription.complete(), CLOSE_FLUSH_MS),
      async () => {
        await bounded(Promise.all(this.#releasing), CLOSE_FLUSH_MS);
        await this.#connection.close(CLOSE_FLUSH_MS);
      },
    );
  }

  #assertOpen(): void {
    this.#life.assertOpen();
    if (this.#connection.closed) throw this.#life.closedError();
  }
}
