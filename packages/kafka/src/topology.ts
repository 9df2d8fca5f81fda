import type { Admin, Kafka } from 'kafkajs';
import { withConnectDeadline } from './connect-deadline.ts';
import { transportError } from './errors.ts';
import { type Cluster, clusterOf, commitGroupStart, GroupActiveError } from './group-start.ts';
import type { ResolvedOptions } from './options.ts';

/** Per-partition consumer lag of one group on one topic. */
export interface PartitionLag {
  readonly partition: number;
  /** The group's committed offset (next record it will read); -1 when it has none. */
  readonly committed: number;
  /** The partition's high watermark (offset of the next record to be written). */
  readonly highWatermark: number;
  /** Records retained and not yet committed by the group. */
  readonly lag: number;
}

/** Kafka headroom above the declared limit for record and batch framing (see `recordSize`). */
export const FRAMING_HEADROOM = 64 * 1024;

/** Topics and group positions through one admin client, created on demand and idempotent. */
export class Provisioner {
  readonly #kafka: Kafka;
  readonly #options: ResolvedOptions;
  readonly #secrets: readonly string[];
  readonly #topics = new Map<string, Promise<void>>();
  #admin: Promise<Admin> | undefined;
  #cluster: Promise<Cluster | undefined> | undefined;

  constructor(kafka: Kafka, options: ResolvedOptions, secrets: readonly string[]) {
    this.#kafka = kafka;
    this.#options = options;
    this.#secrets = secrets;
  }

  admin(): Promise<Admin> {
    this.#admin ??= (async () => {
      const admin = this.#kafka.admin();
      try {
        await withConnectDeadline(
          admin.connect(),
          this.#options.connectTimeoutMs,
          this.#options.brokers,
          () => admin.disconnect(),
        );
      } catch (error) {
        this.#admin = undefined;
        throw transportError('Could not connect to Kafka', error, this.#secrets);
      }
      return admin;
    })();
    return this.#admin;
  }

  /** Create `topic` unless it exists; the answer is cached, a failure is not. */
  ensureTopic(topic: string): Promise<void> {
    let ready = this.#topics.get(topic);
    if (!ready) {
      ready = this.#createTopic(topic);
      this.#topics.set(topic, ready);
      ready.catch(() => this.#topics.delete(topic));
    }
    return ready;
  }

  async #createTopic(topic: string): Promise<void> {
    const admin = await this.admin();
    const configEntries = Object.entries({
      'max.message.bytes': String(this.#options.maxMessageBytes + FRAMING_HEADROOM),
      ...this.#options.topicConfig,
    }).map(([name, value]) => ({ name, value }));
    try {
      // Creating many topics at once, a broker (4.x especially) may answer the leader wait with
      // UNKNOWN_TOPIC_OR_PARTITION for a topic it just created: retry, and wait for leaders ourselves.
      await retryWhileRetriable(async () => {
        try {
          await admin.createTopics({
            topics: [
              {
                topic,
                numPartitions: this.#options.partitions,
                replicationFactor: this.#options.replicationFactor,
                configEntries,
              },
            ],
            waitForLeaders: false,
          });
        } catch (error) {
          if ((error as { type?: string }).type !== 'TOPIC_ALREADY_EXISTS') throw error;
        }
        const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
        const partitions = topics[0]?.partitions ?? [];
        if (partitions.length === 0 || partitions.some((p) => p.leader < 0)) {
          throw Object.assign(new Error(`Topic '${topic}' has no leader yet`), { retriable: true });
        }
      }, 50);
    } catch (error) {
      throw transportError(`Could not create topic '${topic}'`, error, this.#secrets);
    }
  }

  /**
   * Give a group that has no committed offset on `topic` one: the records published from `since`
   * on (`latest`), or the earliest retained (`earliest`). A group that has offsets keeps them.
   * Positioning by timestamp rather than by the current end means that a record published after
   * `subscribe()` was called is never missed, however long the group join then takes.
   */
  async positionGroup(
    topic: string,
    group: string,
    from: 'latest' | 'earliest',
    since: number,
  ): Promise<void> {
    const admin = await this.admin();
    try {
      await retryWhileRetriable(async () => {
        const [existing] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
        if ((existing?.partitions ?? []).some((p) => Number(p.offset) >= 0)) return;
        const offsets =
          from === 'earliest'
            ? (await admin.fetchTopicOffsets(topic)).map((p) => ({ partition: p.partition, offset: p.low }))
            : await admin.fetchTopicOffsetsByTimestamp(topic, since);
        const cluster = await this.#clusterClient();
        if (cluster) await commitGroupStart(cluster, group, topic, offsets);
        else await admin.setOffsets({ groupId: group, topic, partitions: offsets });
      });
    } catch (error) {
      // A group with running members positions itself (they read `fromBeginning`); a member that
      // is already there has decided where the group starts.
      if (error instanceof GroupActiveError || /no running instances/i.test((error as Error).message)) return;
      throw transportError(`Could not position group '${group}' on '${topic}'`, error, this.#secrets);
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

  async lag(topic: string, group: string): Promise<PartitionLag[]> {
    const admin = await this.admin();
    try {
      const [ends, committed] = await Promise.all([
        admin.fetchTopicOffsets(topic),
        admin.fetchOffsets({ groupId: group, topics: [topic] }),
      ]);
      const byPartition = new Map(
        (committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]),
      );
      return ends
        .map((end) => {
          const highWatermark = Number(end.high);
          const offset = byPartition.get(end.partition) ?? -1;
          // No committed offset: from the log start, not 0 (KEDA #7936); one below the log start
          // points at records retention deleted, which nobody can consume any more.
          const base = Math.max(offset, Number(end.low));
          return {
            partition: end.partition,
            committed: offset,
            highWatermark,
            lag: Math.max(0, highWatermark - base),
          };
        })
        .sort((a, b) => a.partition - b.partition);
    } catch (error) {
      throw transportError(`Could not read the lag of '${group}' on '${topic}'`, error, this.#secrets);
    }
  }

  async close(): Promise<void> {
    const admin = this.#admin;
    const cluster = this.#cluster;
    this.#admin = undefined;
    this.#cluster = undefined;
    if (admin) await admin.then((a) => a.disconnect()).catch(() => undefined);
    if (cluster) await cluster.then((c) => c?.disconnect()).catch(() => undefined);
  }
}

/**
 * A freshly started broker answers group requests with NOT_COORDINATOR or
 * COORDINATOR_LOAD_IN_PROGRESS for a while, and kafkajs's admin does not retry those.
 */
async function retryWhileRetriable(operation: () => Promise<void>, attempts = 20): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (attempt >= attempts || (error as { retriable?: boolean }).retriable !== true) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.min(100 * attempt, 1_000)));
    }
  }
}
