import type { WireMessage } from '@switchyard/core/transport';
import type { TopicMessages } from 'kafkajs';
import type { ResolvedOptions } from './options.ts';

/**
 * What the transport needs of a Kafka client library, so the member, the key dispatcher, the
 * offset tracker, the publisher and the provisioner are written once and run on either driver
 * (`kafka: { client }`): kafkajs (kafkajs-client.ts) or @platformatic/kafka (platformatic-client.ts).
 */
export interface KafkaClient {
  /** A new idempotent producer (acks -1, one request in flight), connected within `connectTimeoutMs`. */
  producer(): Promise<RecordSender>;
  /** An admin client, not connected yet. */
  admin(): AdminClient;
  /** A new member of a consumer group, not connected yet; `handlers` hear of what happens to it. */
  consumer(spec: ConsumerSpec, handlers: ConsumerHandlers): GroupConsumer;
  /** True when `error` says the broker or group coordinator was unreachable, not that something is wrong. */
  brokerAway(error: unknown): boolean;
}

/**
 * One idempotent producer. The request is kafkajs's shape (records as `toRecord` writes them),
 * which the other driver translates: acks is always -1.
 */
export interface RecordSender {
  sendBatch(request: { topicMessages: TopicMessages[]; acks: -1 }): Promise<unknown>;
  disconnect(): Promise<void>;
}

export interface TopicSpec {
  readonly numPartitions: number;
  /** -1: the broker's default. */
  readonly replicationFactor: number;
  readonly configEntries: ReadonlyArray<{ name: string; value: string }>;
}

/** Topics and group offsets. A failure the caller may retry is marked by `retriable(error)`. */
export interface AdminClient {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  /** Creates `topic`; resolves too when it exists already. */
  createTopic(topic: string, spec: TopicSpec): Promise<void>;
  /** The leader of each partition of `topic` (negative: none yet). */
  partitionLeaders(topic: string): Promise<number[]>;
  /** The group's committed offset of each partition of `topic` it has one for (-1: none). */
  committedOffsets(groupId: string, topic: string): Promise<Array<{ partition: number; offset: number }>>;
  /** Each partition's low and high watermark. */
  topicOffsets(topic: string): Promise<Array<{ partition: number; low: number; high: number }>>;
  /** Each partition's first offset whose record is at or after `timestamp` (the end if none). */
  offsetsAt(topic: string, timestamp: number): Promise<Array<{ partition: number; offset: number }>>;
  /**
   * Commit `partitions` as the group's start as a non-member (generation -1); throws
   * `GroupActiveError` when the group has members (they own its position).
   */
  commitGroupStart(
    groupId: string,
    topic: string,
    partitions: ReadonlyArray<{ partition: number; offset: number }>,
  ): Promise<void>;
  /** True when a failure of the calls above may pass on a retry (a coordinator still loading…). */
  retriable(error: unknown): boolean;
}

/** Thrown when the group has members: they own its position, nothing is committed. */
export class GroupActiveError extends Error {}

export interface ConsumerSpec {
  readonly topic: string;
  readonly groupId: string;
  readonly from: 'latest' | 'earliest';
  readonly options: ResolvedOptions;
}

/**
 * Runs before a member sends its JoinGroup for a rebalance; the group waits for it (up to the
 * rebalance timeout). `heartbeat` keeps the member's session alive while it waits.
 */
export type BeforeRejoin = (heartbeat: () => Promise<void>) => Promise<void>;

/** One fetch of one partition, as the client hands it to the member. */
export interface FetchedBatch {
  readonly partition: number;
  readonly size: number;
  /** Offset of the record at `index`. */
  offset(index: number): number;
  /** The record at `index` as a WireMessage (decoded on this call). */
  message(index: number): WireMessage;
  /** The offset after this fetch (past records the broker left out, such as transaction markers). */
  readonly end: number;
  /** The member took every record: the client need not hand them out again. */
  taken(): void;
  /** False once the client stopped. */
  isRunning(): boolean;
  /** True once a rebalance made this batch out of date. */
  isStale(): boolean;
  /** Keep the session alive while the member waits inside the batch (throws on a rebalance). */
  heartbeat(): Promise<void>;
}

export interface ConsumerHandlers {
  /** Joined (or rejoined) the group: this member's id and its partitions of the topic. */
  onJoin(memberId: string, assigned: readonly number[]): void;
  /** The group is rebalancing; the member rejoins next (after `gateRejoin`'s hold). */
  onRebalancing(): void;
  /**
   * The client lost its consumer; `restart` when it starts it again itself. A consumer that will
   * not restart is stopped and disconnected.
   */
  onCrash(error: Error, restart: boolean): void;
  /** Records fetched; the client may fetch on while the promise is pending. */
  onBatch(batch: FetchedBatch): Promise<void>;
}

export interface GroupConsumer {
  /** Connect to the cluster (the member bounds it with `connectTimeoutMs`). */
  connect(): Promise<void>;
  /** Subscribe to the topic, join the group, and start fetching. */
  run(): Promise<void>;
  /** Stop fetching `partitions` (all of them when not given). */
  pause(partitions?: readonly number[]): void;
  resume(partitions: readonly number[]): void;
  /** Commit offsets (of the next record to read) as this member, in its current generation. */
  commit(offsets: ReadonlyArray<{ partition: number; offset: number }>): Promise<void>;
  /** Let `before` hold the rejoin of member `memberId` on each rebalance; returns the release. */
  gateRejoin(memberId: string, before: BeforeRejoin): () => void;
  /** Leave the group and close the connections. */
  disconnect(): Promise<void>;
}
