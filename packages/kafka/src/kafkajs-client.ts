import type { Admin, Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { fromRecord } from './binding.ts';
import type {
  AdminClient,
  BeforeRejoin,
  ConsumerHandlers,
  ConsumerSpec,
  GroupConsumer,
  KafkaClient,
  RecordSender,
  TopicSpec,
} from './client.ts';
import { GroupActiveError } from './client.ts';
import { withConnectDeadline } from './connect-deadline.ts';
import { poolEncoderBuffers } from './encoder-buffers.ts';
import { causes, transportError } from './errors.ts';
import { type Cluster, clusterOf, commitGroupStart } from './group-start.ts';
import type { ResolvedOptions } from './options.ts';
import { retryStablePartitioner } from './publisher.ts';
import { gateRejoin } from './rejoin-gate.ts';
import { quietIdleRequestQueues } from './request-queue-fix.ts';

/**
 * Failures that end a kafkajs consumer for good although the broker coming back cures them.
 * kafkajs restarts a crashed consumer only when the root cause is marked retriable, and some of
 * what a broker restart produces is not: a FindCoordinator whose connection closes or times out
 * (the broker going down, or still loading its groups) ends in KafkaJSGroupCoordinatorNotFound,
 * which kafkajs marks non-retriable and so never restarts from.
 */
const BROKER_AWAY = new Set([
  'KafkaJSGroupCoordinatorNotFound',
  'KafkaJSBrokerNotFound',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSNumberOfRetriesExceeded',
]);

/** True when `error` says the broker or group coordinator was unreachable, not that something is wrong. */
export function brokerAway(error: unknown): boolean {
  return causes(error).some((e) => BROKER_AWAY.has(e.name));
}

/** The transport on kafkajs (the default driver). */
export class KafkajsClient implements KafkaClient {
  readonly #kafka: Kafka;
  readonly #options: ResolvedOptions;
  readonly #secrets: readonly string[];

  constructor(kafka: Kafka, options: ResolvedOptions, secrets: readonly string[] = []) {
    quietIdleRequestQueues();
    poolEncoderBuffers();
    this.#kafka = kafka;
    this.#options = options;
    this.#secrets = secrets;
  }

  async producer(): Promise<RecordSender> {
    const producer = this.#kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: retryStablePartitioner,
      retry: { retries: this.#options.publishRetries, initialRetryTime: 300, maxRetryTime: 5_000 },
    });
    try {
      await withConnectDeadline(
        producer.connect(),
        this.#options.connectTimeoutMs,
        this.#options.brokers,
        () => producer.disconnect(),
      );
    } catch (error) {
      throw transportError('Could not connect to Kafka', error, this.#secrets);
    }
    return producer;
  }

  admin(): AdminClient {
    return new KafkajsAdmin(this.#kafka, this.#options);
  }

  consumer(spec: ConsumerSpec, handlers: ConsumerHandlers): GroupConsumer {
    return new KafkajsConsumer(this.#kafka, spec, handlers);
  }

  brokerAway(error: unknown): boolean {
    return brokerAway(error);
  }
}

class KafkajsConsumer implements GroupConsumer {
  readonly #consumer: Consumer;
  readonly #spec: ConsumerSpec;
  readonly #handlers: ConsumerHandlers;

  constructor(kafka: Kafka, spec: ConsumerSpec, handlers: ConsumerHandlers) {
    const { topic, groupId, options } = spec;
    this.#spec = spec;
    this.#handlers = handlers;
    const consumer = kafka.consumer({
      groupId,
      sessionTimeout: options.sessionTimeoutMs,
      heartbeatInterval: options.heartbeatIntervalMs,
      rebalanceTimeout: options.rebalanceTimeoutMs,
      maxWaitTimeInMs: options.maxWaitTimeMs,
      allowAutoTopicCreation: false,
      retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 5_000 },
    });
    this.#consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      handlers.onJoin(payload.memberId, payload.memberAssignment[topic] ?? []);
    });
    consumer.on(consumer.events.REBALANCING, () => handlers.onRebalancing());
    consumer.on(consumer.events.CRASH, ({ payload }) => handlers.onCrash(payload.error, payload.restart));
  }

  connect(): Promise<void> {
    return this.#consumer.connect();
  }

  async run(): Promise<void> {
    const consumer = this.#consumer;
    await consumer.subscribe({ topics: [this.#spec.topic], fromBeginning: this.#spec.from === 'earliest' });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: (payload) => this.#onBatch(payload),
    });
  }

  #onBatch({ batch, resolveOffset, isRunning, isStale, heartbeat }: EachBatchPayload): Promise<void> {
    const messages = batch.messages;
    return this.#handlers.onBatch({
      partition: batch.partition,
      size: messages.length,
      offset: (index) => Number(messages[index]!.offset),
      message: (index) => fromRecord(messages[index]!),
      get end() {
        return Number(batch.lastOffset()) + 1;
      },
      // kafkajs's resolveOffset parses an offset into a Long and formats it back, about a
      // microsecond a record: resolving the last one says the same once.
      taken: () => {
        const last = messages.at(-1);
        if (last) resolveOffset(last.offset);
      },
      isRunning,
      isStale,
      heartbeat,
    });
  }

  pause(partitions?: readonly number[]): void {
    const topic = this.#spec.topic;
    this.#consumer.pause([partitions ? { topic, partitions: [...partitions] } : { topic }]);
  }

  resume(partitions: readonly number[]): void {
    this.#consumer.resume([{ topic: this.#spec.topic, partitions: [...partitions] }]);
  }

  async commit(offsets: ReadonlyArray<{ partition: number; offset: number }>): Promise<void> {
    await this.#consumer.commitOffsets(
      offsets.map(({ partition, offset }) => ({
        topic: this.#spec.topic,
        partition,
        offset: String(offset),
      })),
    );
  }

  gateRejoin(memberId: string, before: BeforeRejoin): () => void {
    return gateRejoin(memberId, before);
  }

  disconnect(): Promise<void> {
    return this.#consumer.disconnect();
  }
}

/** kafkajs's admin, and its cluster client for the generation -1 commit (see group-start.ts). */
class KafkajsAdmin implements AdminClient {
  readonly #kafka: Kafka;
  readonly #admin: Admin;
  readonly #options: ResolvedOptions;
  #cluster: Promise<Cluster | undefined> | undefined;

  constructor(kafka: Kafka, options: ResolvedOptions) {
    this.#kafka = kafka;
    this.#admin = kafka.admin();
    this.#options = options;
  }

  connect(): Promise<void> {
    const admin = this.#admin;
    return withConnectDeadline(admin.connect(), this.#options.connectTimeoutMs, this.#options.brokers, () =>
      admin.disconnect(),
    );
  }

  async disconnect(): Promise<void> {
    const cluster = this.#cluster;
    this.#cluster = undefined;
    await this.#admin.disconnect().catch(() => undefined);
    if (cluster) await cluster.then((c) => c?.disconnect()).catch(() => undefined);
  }

  async createTopic(topic: string, spec: TopicSpec): Promise<void> {
    try {
      await this.#admin.createTopics({
        topics: [
          {
            topic,
            numPartitions: spec.numPartitions,
            replicationFactor: spec.replicationFactor,
            configEntries: [...spec.configEntries],
          },
        ],
        waitForLeaders: false,
      });
    } catch (error) {
      if ((error as { type?: string }).type !== 'TOPIC_ALREADY_EXISTS') throw error;
    }
  }

  async partitionLeaders(topic: string): Promise<number[]> {
    const { topics } = await this.#admin.fetchTopicMetadata({ topics: [topic] });
    return (topics[0]?.partitions ?? []).map((p) => p.leader);
  }

  async committedOffsets(
    groupId: string,
    topic: string,
  ): Promise<Array<{ partition: number; offset: number }>> {
    const [existing] = await this.#admin.fetchOffsets({ groupId, topics: [topic] });
    return (existing?.partitions ?? []).map((p) => ({ partition: p.partition, offset: Number(p.offset) }));
  }

  async topicOffsets(topic: string): Promise<Array<{ partition: number; low: number; high: number }>> {
    const ends = await this.#admin.fetchTopicOffsets(topic);
    return ends.map((p) => ({ partition: p.partition, low: Number(p.low), high: Number(p.high) }));
  }

  async offsetsAt(topic: string, timestamp: number): Promise<Array<{ partition: number; offset: number }>> {
    const offsets = await this.#admin.fetchTopicOffsetsByTimestamp(topic, timestamp);
    return offsets.map((p) => ({ partition: p.partition, offset: Number(p.offset) }));
  }

  async commitGroupStart(
    groupId: string,
    topic: string,
    partitions: ReadonlyArray<{ partition: number; offset: number }>,
  ): Promise<void> {
    const offsets = partitions.map((p) => ({ partition: p.partition, offset: String(p.offset) }));
    const cluster = await this.#clusterClient();
    if (cluster) return commitGroupStart(cluster, groupId, topic, offsets);
    try {
      await this.#admin.setOffsets({ groupId, topic, partitions: offsets });
    } catch (error) {
      if (/no running instances/i.test((error as Error).message)) throw new GroupActiveError('active');
      throw error;
    }
  }

  #clusterClient(): Promise<Cluster | undefined> {
    this.#cluster ??= (async () => {
      const cluster = clusterOf(this.#kafka);
      if (!cluster) return undefined;
      try {
        await cluster.connect();
      } catch (error) {
        this.#cluster = undefined;
        throw error;
      }
      return cluster;
    })();
    return this.#cluster;
  }

  retriable(error: unknown): boolean {
    return (error as { retriable?: boolean }).retriable === true;
  }
}
