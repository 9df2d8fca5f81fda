import {
  assertGroupName,
  assertTopicName,
  type Capabilities,
  type GroupStats,
  Lifecycle,
  type Logger,
  type LogThreshold,
  type SubscribeOptions,
  type Transport,
  type TransportDelivery,
  type WireMessage,
} from '@switchyard/core/transport';
import { Kafka } from 'kafkajs';
import { Observable } from 'rxjs';
import type { KafkaClient } from './client.ts';
import { KafkaMember } from './consumer.ts';
import { inspectKafka } from './inspect.ts';
import { KafkajsClient } from './kafkajs-client.ts';
import { kafkaLogLevel, logCreatorFor, secretsOf } from './logger.ts';
import { OperationsAdmin } from './operations-admin.ts';
import { type KafkaOptions, type ResolvedOptions, resolveOptions } from './options.ts';
import { peekKafka } from './peek.ts';
import { PlatformaticClient } from './platformatic-client.ts';
import { Publisher } from './publisher.ts';
import { rewritingSocketFactory } from './socket-factory.ts';
import { type PartitionLag, Provisioner } from './topology.ts';

/** Budget for one produce request's records, under the broker's default 1 MiB record batch. */
const REQUEST_HEADROOM = 32 * 1024;

/**
 * Switchyard on Kafka (kafkajs, or @platformatic/kafka with `client: 'platformatic'`): topic → topic (created with `partitions`), group → consumer
 * group, key → record key, event → CloudEvents Kafka binding in binary content mode.
 */
export class KafkaTransport implements Transport {
  readonly name = 'kafka';
  readonly capabilities: Capabilities;
  readonly options: ResolvedOptions;
  readonly #client: KafkaClient;
  readonly #kafka: Kafka;
  readonly #operations: OperationsAdmin;
  readonly #secrets: readonly string[];
  readonly #provisioner: Provisioner;
  readonly #life = new Lifecycle<KafkaMember>('kafka transport');
  readonly #publisher: Publisher;

  /** `logger` and `logLevel`: the bus's, from `connect()`, used where `options` give none. */
  constructor(
    url: URL | string,
    options: KafkaOptions = {},
    bus: { logger?: Logger; logLevel?: LogThreshold } = {},
  ) {
    this.options = resolveOptions(url, {
      ...options,
      ...(options.logLevel === undefined && bus.logLevel !== undefined ? { logLevel: bus.logLevel } : {}),
    });
    this.#secrets = secretsOf(this.options);
    const o = this.options;
    // kafkajs's client object opens nothing until used: the kafkajs driver runs on it, and on
    // either driver `inspect` and `peek` read through it (operations-admin.ts).
    this.#kafka = new Kafka({
      clientId: o.clientId,
      brokers: o.brokers,
      ...(o.ssl === undefined ? {} : { ssl: o.ssl }),
      ...(o.sasl === undefined ? {} : { sasl: o.sasl }),
      socketFactory: rewritingSocketFactory(o.rewriteAddress, () => this.#life.closed),
      // A TCP connect never outlasts the whole connection's deadline.
      connectionTimeout: Math.min(o.connectionTimeoutMs, o.connectTimeoutMs),
      requestTimeout: o.requestTimeoutMs,
      logLevel: kafkaLogLevel(o),
      logCreator: logCreatorFor(o, bus.logger, () => this.#life.closed),
    });
    this.#client =
      o.client === 'platformatic'
        ? new PlatformaticClient(o, this.#secrets)
        : new KafkajsClient(this.#kafka, o, this.#secrets);
    this.#operations = new OperationsAdmin(this.#kafka, o, this.#secrets);
    this.#provisioner = new Provisioner(this.#client, o, this.#secrets);
    this.#publisher = new Publisher(
      () => this.#client.producer(),
      { maxMessageBytes: o.maxMessageBytes, budget: o.maxMessageBytes + REQUEST_HEADROOM },
      this.#secrets,
    );
    this.capabilities = {
      consumerGroups: true,
      // The group gives each partition, so each key, to one member at a time.
      keyOrderWithinMember: true,
      keyOrderAcrossMembers: true,
      // A delayed nack is held by this member (the partition's commit waits behind it), not by Kafka.
      nativeDelay: false,
      persistence: true,
      shared: true,
      replay: true,
      maxMessageBytes: o.maxMessageBytes,
    };
  }

  /**
   * A transport whose producer is already connected, so a wrong address or credentials fail here
   * rather than at the first publish. `url` may list several brokers (`kafka://a:9092,b:9092`).
   */
  static async create(
    url: URL | string,
    options: KafkaOptions = {},
    bus: { logger?: Logger; logLevel?: LogThreshold } = {},
  ): Promise<KafkaTransport> {
    const transport = new KafkaTransport(url, options, bus);
    try {
      await transport.connect();
    } catch (error) {
      await transport.close();
      throw error;
    }
    return transport;
  }

  /** Connect the producer now, so a wrong address or credentials fail `connect()` rather than the first publish. */
  async connect(): Promise<void> {
    await this.#publisher.producer();
  }

  async publish(topic: string, messages: readonly WireMessage[]): Promise<void> {
    this.#life.assertOpen();
    assertTopicName(topic);
    await this.#publisher.producer();
    await this.#provisioner.ensureTopic(topic);
    await this.#publisher.publish(topic, messages);
  }

  async provision(topic: string, group?: string, from: 'latest' | 'earliest' = 'latest'): Promise<void> {
    this.#life.assertOpen();
    if (group === undefined) assertTopicName(topic);
    else assertGroupName(topic, group);
    const since = Date.now();
    await this.#provisioner.ensureTopic(topic);
    if (group !== undefined) {
      await this.#provisioner.positionGroup(topic, this.options.groupIdFor(topic, group), from, since);
    }
  }

  /** Operations (#23): the group's records from its committed offset, read without consuming or committing. */
  peek(topic: string, group: string, limit: number) {
    this.#life.assertOpen();
    assertGroupName(topic, group);
    return peekKafka(
      this.#kafka,
      this.#operations,
      topic,
      this.options.groupIdFor(topic, group),
      limit,
      this.#secrets,
    );
  }

  subscribe(topic: string, options: SubscribeOptions): Observable<TransportDelivery> {
    return new Observable<TransportDelivery>((subscriber) => {
      if (this.#life.closed) {
        subscriber.error(this.#life.closedError());
        return;
      }
      assertGroupName(topic, options.group);
      const member = new KafkaMember({
        client: this.#client,
        provisioner: this.#provisioner,
        options: this.options,
        secrets: this.#secrets,
        topic,
        group: options.group,
        prefetch: options.prefetch,
        from: options.from ?? 'latest',
        since: Date.now(),
        deliver: (delivery) => subscriber.next(delivery),
        fail: (error) => subscriber.error(error),
      });
      this.#life.members.add(member);
      void member.start();
      return () => {
        void member.stop().finally(() => this.#life.members.delete(member));
      };
    });
  }

  /** Per partition: the group's committed offset against the high watermark. */
  lag(topic: string, group: string): Promise<PartitionLag[]> {
    if (this.#life.closed) return Promise.reject(this.#life.closedError());
    return this.#provisioner.lag(topic, this.options.groupIdFor(topic, group));
  }

  /** Operations (#23): backlog from committed offsets (log start where none), members, local in flight. */
  async inspect(topic: string, group: string): Promise<GroupStats> {
    this.#life.assertOpen();
    assertGroupName(topic, group);
    const local = [...this.#life.members].map((member) => member.held());
    return inspectKafka(
      this.#operations,
      this.#provisioner,
      topic,
      this.options.groupIdFor(topic, group),
      local.filter((hold) => hold.topic === topic && hold.group === group),
      this.#secrets,
    );
  }

  /** Members still in a group leave now (what they settled is committed), then every connection closes. */
  close(): Promise<void> {
    return this.#life.close(
      (member) => member.stop(0),
      async () => {
        await this.#publisher.close();
        await this.#provisioner.close();
        await this.#operations.close();
      },
    );
  }
}
