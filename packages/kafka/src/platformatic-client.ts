import {
  Admin,
  type BaseOptions,
  type ClusterMetadata,
  Connection,
  Consumer,
  compatibilityPartitioner,
  type Message as FetchedMessage,
  heartbeatV4,
  type MessagesStream,
  type MessageToProduce,
  Producer,
  stringDeserializer,
  stringSerializer,
} from '@platformatic/kafka';
import type { Message as KafkajsMessage } from 'kafkajs';
import { fromHeaderMap } from './binding.ts';
import {
  type AdminClient,
  type BeforeRejoin,
  type ConsumerHandlers,
  type ConsumerSpec,
  GroupActiveError,
  type GroupConsumer,
  type KafkaClient,
  type RecordSender,
  type TopicSpec,
} from './client.ts';
import { withConnectDeadline } from './connect-deadline.ts';
import { causes, transportError } from './errors.ts';
import type { ResolvedOptions } from './options.ts';

/** Kafka error codes that mean the coordinator or a leader is moving or away, not that something is wrong. */
const AWAY_CODES = new Set([
  'COORDINATOR_NOT_AVAILABLE',
  'NOT_COORDINATOR',
  'COORDINATOR_LOAD_IN_PROGRESS',
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_OR_FOLLOWER',
  'REQUEST_TIMED_OUT',
  'NETWORK_EXCEPTION',
]);

/** What a broker answers while it restarts, and what a connection to one that is down fails with. */
function platformaticAway(error: unknown): boolean {
  return causes(error).some((e) => {
    const { code, apiId } = e as { code?: string; apiId?: string };
    return code === 'PLT_KFK_NETWORK' || code === 'PLT_KFK_TIMEOUT' || AWAY_CODES.has(apiId ?? '');
  });
}

/**
 * `rewriteAddress` on this client: it connects to brokers by the addresses of its cluster metadata,
 * which it announces in a 'client:metadata' event, synchronously, before it uses them. The brokers
 * map it hands over is the one it keeps, so rewriting its entries there sends every later
 * connection to a broker (by node id: fetch, produce, group coordinator) to the reachable address.
 * A coordinator an admin looks up with FindCoordinator is reached at the address the broker
 * gives, as with kafkajs's admin before its first metadata.
 */
function rewriting<
  C extends { on(event: 'client:metadata', listener: (metadata: ClusterMetadata) => void): unknown },
>(client: C, rewrite: ResolvedOptions['rewriteAddress']): C {
  if (!rewrite) return client;
  client.on('client:metadata', (metadata) => {
    for (const [id, broker] of metadata.brokers) {
      const target = rewrite({ host: broker.host, port: broker.port });
      if (target.host !== broker.host || target.port !== broker.port) {
        metadata.brokers.set(id, { ...broker, host: target.host, port: target.port });
      }
    }
  });
  return client;
}

/** Backoff between the client's own retries: 300 ms doubling up to 5 s, as the kafkajs driver's. */
const retryDelay = (_client: unknown, _operation: string, attempt: number): number =>
  Math.min(300 * 2 ** (attempt - 1), 5_000);

/**
 * The transport on @platformatic/kafka, through its public API only: the group start is its
 * admin's `alterConsumerGroupOffsets` (an OffsetCommit at generation -1), the rejoin gate its
 * `protocolsMetadata` hook, which it awaits before every JoinGroup.
 */
export class PlatformaticClient implements KafkaClient {
  readonly #options: ResolvedOptions;
  readonly #secrets: readonly string[];

  constructor(options: ResolvedOptions, secrets: readonly string[]) {
    this.#options = options;
    this.#secrets = secrets;
  }

  /** Connection options every client of this transport shares. */
  base(): BaseOptions {
    const o = this.#options;
    const sasl = o.sasl as { mechanism: string; username?: string; password?: string } | undefined;
    return {
      clientId: o.clientId,
      bootstrapBrokers: o.brokers,
      connectTimeout: Math.min(o.connectionTimeoutMs, o.connectTimeoutMs),
      requestTimeout: o.requestTimeoutMs,
      timeout: o.requestTimeoutMs,
      retryDelay,
      ...(o.ssl === undefined || o.ssl === false ? {} : { tls: o.ssl === true ? {} : o.ssl }),
      ...(sasl
        ? {
            sasl: {
              mechanism: sasl.mechanism.toUpperCase() as 'PLAIN',
              ...(sasl.username === undefined ? {} : { username: sasl.username }),
              ...(sasl.password === undefined ? {} : { password: sasl.password }),
            },
          }
        : {}),
    };
  }

  async producer(): Promise<RecordSender> {
    const o = this.#options;
    const producer = rewriting(
      new Producer<string | undefined, Buffer, string, string>({
        ...this.base(),
        idempotent: true,
        acks: -1,
        autocreateTopics: false,
        retries: o.publishRetries,
        serializers: { key: stringSerializer, headerKey: stringSerializer, headerValue: stringSerializer },
        partitioner: keyedOrRoundRobin(),
      }),
      o.rewriteAddress,
    );
    try {
      await withConnectDeadline(producer.initIdempotentProducer({}), o.connectTimeoutMs, o.brokers, () =>
        producer.close(true),
      );
    } catch (error) {
      await producer.close(true).catch(() => undefined);
      throw transportError('Could not connect to Kafka', error, this.#secrets);
    }
    return {
      async sendBatch({ topicMessages }) {
        const messages: MessageToProduce<string | undefined, Buffer, string, string>[] = [];
        for (const { topic, messages: records } of topicMessages) {
          for (const record of records) messages.push(toProduce(topic, record));
        }
        await producer.send({ messages });
      },
      disconnect: () => producer.close(true),
    };
  }

  admin(): AdminClient {
    return new PlatformaticAdmin(this.base(), this.#options);
  }

  consumer(spec: ConsumerSpec, handlers: ConsumerHandlers): GroupConsumer {
    return new PlatformaticConsumer(this.base(), spec, handlers);
  }

  brokerAway(error: unknown): boolean {
    return platformaticAway(error);
  }
}

/**
 * Java's partitioner for a keyed record (the kafkajs driver's too, so one key lands in the same
 * partition whichever driver published it), round-robin for the rest.
 */
function keyedOrRoundRobin() {
  let next = 0;
  return (message: MessageToProduce<string | undefined, Buffer, string, string>, key: Buffer | undefined) =>
    key ? compatibilityPartitioner(message, key) : next++ & 0x7fffffff;
}

/** A record as `toRecord` writes it (kafkajs's shape) in @platformatic/kafka's. */
function toProduce(
  topic: string,
  record: KafkajsMessage,
): MessageToProduce<string | undefined, Buffer, string, string> {
  const value = record.value;
  return {
    topic,
    key: record.key == null ? undefined : String(record.key),
    value: value == null ? Buffer.alloc(0) : Buffer.isBuffer(value) ? value : Buffer.from(value),
    headers: record.headers as Record<string, string>,
  };
}

class PlatformaticAdmin implements AdminClient {
  readonly #admin: Admin;
  readonly #options: ResolvedOptions;

  constructor(base: BaseOptions, options: ResolvedOptions) {
    this.#admin = rewriting(new Admin({ ...base, retries: 3 }), options.rewriteAddress);
    this.#options = options;
  }

  connect(): Promise<void> {
    const o = this.#options;
    return withConnectDeadline(
      this.#admin.metadata({ topics: [] }).then(() => undefined),
      o.connectTimeoutMs,
      o.brokers,
      () => this.#admin.close(),
    );
  }

  async disconnect(): Promise<void> {
    await this.#admin.close().catch(() => undefined);
  }

  async createTopic(topic: string, spec: TopicSpec): Promise<void> {
    try {
      await this.#admin.createTopics({
        topics: [topic],
        partitions: spec.numPartitions,
        replicas: spec.replicationFactor,
        configs: spec.configEntries.map(({ name, value }) => ({ name, value })),
      });
    } catch (error) {
      if (!causes(error).some((e) => (e as { apiId?: string }).apiId === 'TOPIC_ALREADY_EXISTS')) throw error;
    }
  }

  async partitionLeaders(topic: string): Promise<number[]> {
    const metadata = await this.#admin.metadata({ topics: [topic], forceUpdate: true });
    return (metadata.topics.get(topic)?.partitions ?? []).map((p) => p.leader);
  }

  async committedOffsets(
    groupId: string,
    topic: string,
  ): Promise<Array<{ partition: number; offset: number }>> {
    const groups = await this.#admin.listConsumerGroupOffsets({ groups: [groupId] });
    const found = groups[0]?.topics.find((t) => t.name === topic);
    return (found?.partitions ?? []).map((p) => ({
      partition: p.partitionIndex,
      offset: Number(p.committedOffset),
    }));
  }

  async #listOffsets(topic: string, timestamp: bigint): Promise<Map<number, number>> {
    const metadata = await this.#admin.metadata({ topics: [topic] });
    const count = metadata.topics.get(topic)?.partitionsCount ?? 0;
    const partitions = Array.from({ length: count }, (_, partitionIndex) => ({ partitionIndex, timestamp }));
    const [listed] = await this.#admin.listOffsets({ topics: [{ name: topic, partitions }] });
    return new Map((listed?.partitions ?? []).map((p) => [p.partitionIndex, Number(p.offset)]));
  }

  async topicOffsets(topic: string): Promise<Array<{ partition: number; low: number; high: number }>> {
    // Kafka's ListOffsets timestamps: -2 the earliest, -1 the latest.
    const [low, high] = await Promise.all([this.#listOffsets(topic, -2n), this.#listOffsets(topic, -1n)]);
    return [...high].map(([partition, end]) => ({ partition, low: low.get(partition) ?? 0, high: end }));
  }

  async offsetsAt(topic: string, timestamp: number): Promise<Array<{ partition: number; offset: number }>> {
    const [at, high] = await Promise.all([
      this.#listOffsets(topic, BigInt(timestamp)),
      this.#listOffsets(topic, -1n),
    ]);
    // No record at or after the timestamp: the broker answers -1, which means the end.
    return [...high].map(([partition, end]) => {
      const offset = at.get(partition) ?? -1;
      return { partition, offset: offset < 0 ? end : offset };
    });
  }

  async commitGroupStart(
    groupId: string,
    topic: string,
    partitions: ReadonlyArray<{ partition: number; offset: number }>,
  ): Promise<void> {
    try {
      await this.#admin.alterConsumerGroupOffsets({
        groupId,
        topics: [
          {
            name: topic,
            partitionOffsets: partitions.map((p) => ({ partition: p.partition, offset: BigInt(p.offset) })),
          },
        ],
      });
    } catch (error) {
      const active = [
        'ILLEGAL_GENERATION',
        'UNKNOWN_MEMBER_ID',
        'REBALANCE_IN_PROGRESS',
        'FENCED_MEMBER_EPOCH',
      ];
      if (causes(error).some((e) => active.includes((e as { apiId?: string }).apiId ?? ''))) {
        throw new GroupActiveError('active');
      }
      throw error;
    }
  }

  retriable(error: unknown): boolean {
    return causes(error).some((e) => (e as { canRetry?: boolean }).canRetry === true);
  }
}

type Fetched = FetchedMessage<Buffer, Buffer, string, Buffer>;

/** Records of paused partitions held back while the others keep fetching; past it the stream pauses. */
const HOLD_LIMIT = 2_048;

/**
 * One member on @platformatic/kafka's MessagesStream (committed mode, no autocommit). The stream
 * hands out records one by one; they are gathered per partition into batches for the member. The
 * stream pauses only as a whole: what arrives for a paused partition is held back here (up to
 * HOLD_LIMIT records, then the stream pauses) and handed over on its resume, so the other
 * partitions keep flowing as with kafkajs's per-partition pause. The stream pauses too when every
 * assigned partition is paused, and while the member waits inside a batch (KafkaMember#roomIn),
 * as kafkajs's eachBatch holds its fetch.
 */
class PlatformaticConsumer implements GroupConsumer {
  readonly #consumer: Consumer<Buffer, Buffer, string, Buffer>;
  readonly #spec: ConsumerSpec;
  readonly #handlers: ConsumerHandlers;
  #stream: MessagesStream<Buffer, Buffer, string, Buffer> | undefined;
  #running = false;
  /** Bumped on every rebalance and join: a batch of an older generation is stale. */
  #generation = 0;
  /** The member id of the last join. */
  #joinedAs: string | undefined;
  #assigned = new Set<number>();
  readonly #paused = new Set<number>();
  #pausedAll = false;
  /** A batch the member has not finished with: the stream stays paused meanwhile. */
  #inBatch = false;
  #pending = new Map<number, Fetched[]>();
  /** Fetched records of paused partitions, not handed to the member until it resumes them. */
  readonly #held = new Map<number, Fetched[]>();
  #heldCount = 0;
  #flushing = false;
  #gate: { memberId: string; before: BeforeRejoin } | undefined;
  #crashed = false;
  readonly #base: BaseOptions;
  /** The connection the gate heartbeats on while the client's own heartbeat is stopped. */
  #heartbeats: Promise<Connection> | undefined;

  constructor(base: BaseOptions, spec: ConsumerSpec, handlers: ConsumerHandlers) {
    const o = spec.options;
    this.#base = base;
    this.#spec = spec;
    this.#handlers = handlers;
    this.#consumer = rewriting(
      new Consumer<Buffer, Buffer, string, Buffer>({
        ...base,
        groupId: spec.groupId,
        retries: 10,
        autocreateTopics: false,
        sessionTimeout: o.sessionTimeoutMs,
        heartbeatInterval: o.heartbeatIntervalMs,
        rebalanceTimeout: o.rebalanceTimeoutMs,
        maxWaitTime: o.maxWaitTimeMs,
        // kafkajs's fetch sizes (1 MiB a partition, 10 MiB a fetch), not this client's 50 MiB: what a
        // member holds beyond its window is one fetch of a partition (see maxUncommittedPerPartition).
        maxBytesPerPartition: 1_048_576,
        maxBytes: 10_485_760,
        autocommit: false,
        deserializers: { headerKey: stringDeserializer as (data?: Buffer) => string },
        protocolsMetadata: () => this.#beforeJoin(),
      }),
      o.rewriteAddress,
    );
    this.#consumer.on('consumer:group:join', ({ memberId, assignments }) => {
      this.#generation += 1;
      const assigned = assignments?.find((a) => a.topic === spec.topic)?.partitions ?? [];
      this.#assigned = new Set(assigned);
      // Records fetched and not handed over yet: a member that kept its id keeps its partitions'
      // offset trackers (KafkaMember#onJoin), so what follows them still belongs to them; dropping
      // those would leave a gap that a fetch still in flight could then step over. A new member id,
      // or a partition no longer assigned, starts again from the committed offset.
      if (memberId !== this.#joinedAs) this.#pending.clear();
      else
        for (const partition of [...this.#pending.keys()])
          if (!this.#assigned.has(partition)) this.#pending.delete(partition);
      // A partition paused and then given to another member must not hold the stream: the member
      // forgets it, and resumes only what it is given (KafkaMember#onJoin).
      for (const partition of [...this.#paused])
        if (!this.#assigned.has(partition)) this.#paused.delete(partition);
      for (const [partition, held] of [...this.#held]) {
        if (memberId === this.#joinedAs && this.#assigned.has(partition)) continue;
        this.#held.delete(partition);
        this.#heldCount -= held.length;
      }
      this.#joinedAs = memberId;
      this.#handlers.onJoin(memberId, assigned);
    });
    // A rejoin that failed for good (the heartbeat's own, after its retries).
    this.#consumer.on('error', (error: Error) => this.#crash(error));
  }

  /** Runs before every JoinGroup: a rejoin of a known member is a rebalance, held by the gate. */
  async #beforeJoin(): Promise<Buffer> {
    const memberId = this.#consumer.memberId;
    if (memberId && this.#running) {
      this.#generation += 1;
      this.#handlers.onRebalancing();
      const gate = this.#gate;
      // The session stays alive: the broker waits up to the rebalance timeout for this JoinGroup.
      if (gate && gate.memberId === memberId) {
        await gate.before(() => this.#heartbeat()).catch(() => undefined);
        const connection = this.#heartbeats;
        this.#heartbeats = undefined;
        void connection?.then((c) => c.close()).catch(() => undefined);
      }
    }
    return Buffer.alloc(0);
  }

  /**
   * One Heartbeat of the old generation while the rejoin is held: the broker answers
   * REBALANCE_IN_PROGRESS and counts the member alive, so a drain may outlast the session timeout
   * (as with kafkajs). The client stops its own heartbeats for a rejoin, so this sends one itself,
   * on a connection of its own to the group coordinator, through the client's public protocol API.
   */
  async #heartbeat(): Promise<void> {
    const consumer = this.#consumer;
    const memberId = consumer.memberId;
    if (!memberId) return;
    try {
      this.#heartbeats ??= (async () => {
        const node = await consumer.findGroupCoordinator();
        const metadata = await consumer.metadata({ topics: [this.#spec.topic] });
        const broker = metadata.brokers.get(node);
        if (!broker) throw new Error(`no address for coordinator ${node}`);
        const connection = new Connection(this.#base.clientId, this.#base);
        await connection.connect(broker.host, broker.port);
        return connection;
      })();
      const connection = await this.#heartbeats;
      await heartbeatV4.api(connection, this.#spec.groupId, consumer.generationId, memberId, null);
    } catch (error) {
      // REBALANCE_IN_PROGRESS is the expected answer; a lost connection is made again next time.
      if (causes(error).some((e) => (e as { apiId?: string }).apiId !== undefined)) return;
      const connection = this.#heartbeats;
      this.#heartbeats = undefined;
      void connection?.then((c) => c.close()).catch(() => undefined);
    }
  }

  connect(): Promise<void> {
    return this.#consumer.metadata({ topics: [this.#spec.topic] }).then(() => undefined);
  }

  async run(): Promise<void> {
    this.#running = true;
    const stream = await this.#consumer.consume({
      topics: [this.#spec.topic],
      mode: 'committed',
      fallbackMode: this.#spec.from,
      autocommit: false,
    });
    this.#stream = stream;
    stream.on('data', (message: Fetched) => this.#onMessage(message));
    stream.on('error', (error: Error) => this.#crash(error));
    this.#applyPause();
  }

  #crash(error: Error): void {
    if (this.#crashed || !this.#running) return;
    this.#crashed = true;
    this.#running = false;
    // What the member expects of a consumer that will not restart: stopped and disconnected.
    void this.#consumer
      .close(true)
      .catch(() => undefined)
      .finally(() => this.#handlers.onCrash(error, false));
  }

  #onMessage(message: Fetched): void {
    const partition = message.partition;
    if (!this.#assigned.has(partition)) return;
    const into = this.#paused.has(partition) ? this.#held : this.#pending;
    let records = into.get(partition);
    if (!records) {
      records = [];
      into.set(partition, records);
    }
    records.push(message);
    if (into === this.#held) {
      this.#heldCount += 1;
      if (this.#heldCount === HOLD_LIMIT) this.#applyPause();
      return;
    }
    this.#scheduleFlush();
  }

  #scheduleFlush(): void {
    if (!this.#flushing) {
      this.#flushing = true;
      setImmediate(() => void this.#flush());
    }
  }

  /** Hand what arrived since the last flush to the member, a batch per partition, one at a time. */
  async #flush(): Promise<void> {
    try {
      while (this.#pending.size > 0 && this.#running) {
        const [partition, records] = this.#pending.entries().next().value!;
        this.#pending.delete(partition);
        const generation = this.#generation;
        const batch = this.#handlers.onBatch({
          partition,
          size: records.length,
          offset: (index) => Number(records[index]!.offset),
          message: (index) => fromMessage(records[index]!),
          end: Number(records.at(-1)!.offset) + 1,
          taken: () => {},
          isRunning: () => this.#running,
          isStale: () => generation !== this.#generation || !this.#assigned.has(partition),
          // The client heartbeats on its own timer, whatever the member is waiting for.
          heartbeat: async () => {},
        });
        // A batch still pending after its loop is waiting for room: hold the stream meanwhile.
        this.#inBatch = true;
        this.#applyPause();
        await batch;
        this.#inBatch = false;
        this.#applyPause();
      }
    } finally {
      this.#flushing = false;
      if (this.#pending.size > 0 && this.#running) {
        this.#flushing = true;
        setImmediate(() => void this.#flush());
      }
    }
  }

  #applyPause(): void {
    const stream = this.#stream;
    if (!stream || stream.destroyed) return;
    const hold =
      this.#pausedAll ||
      this.#inBatch ||
      this.#heldCount >= HOLD_LIMIT ||
      (this.#paused.size > 0 && [...this.#assigned].every((partition) => this.#paused.has(partition)));
    if (hold && !stream.isPaused()) stream.pause();
    else if (!hold && stream.isPaused()) stream.resume();
  }

  pause(partitions?: readonly number[]): void {
    if (partitions === undefined) this.#pausedAll = true;
    else for (const partition of partitions) this.#paused.add(partition);
    this.#applyPause();
  }

  resume(partitions: readonly number[]): void {
    for (const partition of partitions) {
      this.#paused.delete(partition);
      const held = this.#held.get(partition);
      if (!held) continue;
      this.#held.delete(partition);
      this.#heldCount -= held.length;
      const later = this.#pending.get(partition);
      this.#pending.set(partition, later ? held.concat(later) : held);
      this.#scheduleFlush();
    }
    // A resume after a join (KafkaMember#onJoin) names every partition it fetches.
    this.#pausedAll = false;
    for (const partition of [...this.#paused])
      if (!this.#assigned.has(partition)) this.#paused.delete(partition);
    this.#applyPause();
  }

  async commit(offsets: ReadonlyArray<{ partition: number; offset: number }>): Promise<void> {
    await this.#consumer.commit({
      offsets: offsets.map(({ partition, offset }) => ({
        topic: this.#spec.topic,
        partition,
        offset: BigInt(offset),
        leaderEpoch: -1,
      })),
    });
  }

  gateRejoin(memberId: string, before: BeforeRejoin): () => void {
    const gate = { memberId, before };
    this.#gate = gate;
    return () => {
      if (this.#gate === gate) this.#gate = undefined;
    };
  }

  async disconnect(): Promise<void> {
    this.#running = false;
    this.#pending.clear();
    this.#held.clear();
    this.#heldCount = 0;
    await this.#stream?.close().catch(() => undefined);
    await this.#consumer.close(true);
  }
}

/** A fetched record (header names deserialized as strings, values as bytes) → WireMessage. */
function fromMessage(message: Fetched) {
  return fromHeaderMap(message.headers, message.key ?? null, message.value ?? null);
}
