import {
  assertGroupName,
  assertTopicName,
  type Capabilities,
  ClosedError,
  type Logger,
  type LogThreshold,
  type SubscribeOptions,
  type Transport,
  type TransportDelivery,
  type WireMessage,
} from '@switchyard/core';
import { Kafka, type Producer } from 'kafkajs';
import { Observable } from 'rxjs';
import { withConnectDeadline } from './connect-deadline.ts';
import { transportError } from './errors.ts';
import { kafkaLogLevel, logCreatorFor, secretsOf } from './logger.ts';
import { KafkaMember } from './member.ts';
import { type KafkaOptions, type ResolvedOptions, resolveOptions } from './options.ts';
import { type PartitionLag, Provisioner } from './provisioner.ts';
import { Publisher, retryStablePartitioner } from './publisher.ts';
import { rewritingSocketFactory } from './socket-factory.ts';

/** Budget for one produce request's records, under the broker's default 1 MiB record batch. */
const REQUEST_HEADROOM = 32 * 1024;

/**
 * Switchyard on Kafka (kafkajs): topic → topic (created with `partitions`), group → consumer
 * group, key → record key, event → CloudEvents Kafka binding in binary content mode.
 */
export class KafkaTransport implements Transport {
  readonly name = 'kafka';
  readonly capabilities: Capabilities;
  readonly options: ResolvedOptions;
  readonly #kafka: Kafka;
  readonly #secrets: readonly string[];
  readonly #provisioner: Provisioner;
  readonly #members = new Set<KafkaMember>();
  readonly #publisher: Publisher;
  #closed: Promise<void> | undefined;

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
    this.#kafka = new Kafka({
      clientId: o.clientId,
      brokers: o.brokers,
      ...(o.ssl === undefined ? {} : { ssl: o.ssl }),
      ...(o.sasl === undefined ? {} : { sasl: o.sasl }),
      socketFactory: rewritingSocketFactory(o.rewriteAddress, () => this.#closed !== undefined),
      // A TCP connect never outlasts the whole connection's deadline.
      connectionTimeout: Math.min(o.connectionTimeoutMs, o.connectTimeoutMs),
      requestTimeout: o.requestTimeoutMs,
      logLevel: kafkaLogLevel(o),
      logCreator: logCreatorFor(o, bus.logger, () => this.#closed !== undefined),
    });
    this.#provisioner = new Provisioner(this.#kafka, o, this.#secrets);
    this.#publisher = new Publisher(
      () => this.#connectProducer(),
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

  /** Connect the producer now, so a wrong address or credentials fail `connect()` rather than the first publish. */
  async connect(): Promise<void> {
    await this.#publisher.producer();
  }

  /** A new idempotent producer, connected: the first one, and a replacement after each failed send. */
  async #connectProducer(): Promise<Producer> {
    const producer = this.#kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: retryStablePartitioner,
      retry: { retries: this.options.publishRetries, initialRetryTime: 300, maxRetryTime: 5_000 },
    });
    try {
      await withConnectDeadline(producer.connect(), this.options.connectTimeoutMs, this.options.brokers, () =>
        producer.disconnect(),
      );
    } catch (error) {
      throw transportError('Could not connect to Kafka', error, this.#secrets);
    }
    return producer;
  }

  async publish(topic: string, messages: readonly WireMessage[]): Promise<void> {
    if (this.#closed) throw new ClosedError('kafka transport');
    assertTopicName(topic);
    await this.#publisher.producer();
    await this.#provisioner.ensureTopic(topic);
    await this.#publisher.publish(topic, messages);
  }

  async provision(topic: string, group?: string, from: 'latest' | 'earliest' = 'latest'): Promise<void> {
    if (this.#closed) throw new ClosedError('kafka transport');
    if (group === undefined) assertTopicName(topic);
    else assertGroupName(topic, group);
    const since = Date.now();
    await this.#provisioner.ensureTopic(topic);
    if (group !== undefined) {
      await this.#provisioner.positionGroup(topic, this.options.groupIdFor(topic, group), from, since);
    }
  }

  subscribe(topic: string, options: SubscribeOptions): Observable<TransportDelivery> {
    return new Observable<TransportDelivery>((subscriber) => {
      if (this.#closed) {
        subscriber.error(new ClosedError('kafka transport'));
        return;
      }
      assertGroupName(topic, options.group);
      const member = new KafkaMember({
        kafka: this.#kafka,
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
      this.#members.add(member);
      void member.start();
      return () => {
        void member.stop().finally(() => this.#members.delete(member));
      };
    });
  }

  /** Per partition: the group's committed offset against the high watermark. */
  lag(topic: string, group: string): Promise<PartitionLag[]> {
    if (this.#closed) return Promise.reject(new ClosedError('kafka transport'));
    return this.#provisioner.lag(topic, this.options.groupIdFor(topic, group));
  }

  /** Members still in a group leave now (what they settled is committed), then every connection closes. */
  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    await Promise.allSettled([...this.#members].map((member) => member.stop(0)));
    this.#members.clear();
    await this.#publisher.close();
    await this.#provisioner.close();
  }
}
