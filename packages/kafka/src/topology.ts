import { type AdminClient, GroupActiveError, type KafkaClient } from './client.ts';
import { transportError } from './errors.ts';
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
  readonly #client: KafkaClient;
  readonly #options: ResolvedOptions;
  readonly #secrets: readonly string[];
  readonly #topics = new Map<string, Promise<void>>();
  #admin: Promise<AdminClient> | undefined;

  constructor(client: KafkaClient, options: ResolvedOptions, secrets: readonly string[]) {
    this.#client = client;
    this.#options = options;
    this.#secrets = secrets;
  }

  admin(): Promise<AdminClient> {
    this.#admin ??= (async () => {
      const admin = this.#client.admin();
      try {
        await admin.connect();
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
      await retryWhileRetriable(
        admin,
        async () => {
          await admin.createTopic(topic, {
            numPartitions: this.#options.partitions,
            replicationFactor: this.#options.replicationFactor,
            configEntries,
          });
          const leaders = await admin.partitionLeaders(topic);
          if (leaders.length === 0 || leaders.some((leader) => leader < 0)) {
            throw Object.assign(new Error(`Topic '${topic}' has no leader yet`), { retriable: true });
          }
        },
        50,
      );
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
      await retryWhileRetriable(admin, async () => {
        const existing = await admin.committedOffsets(group, topic);
        if (existing.some((p) => p.offset >= 0)) return;
        const offsets =
          from === 'earliest'
            ? (await admin.topicOffsets(topic)).map((p) => ({ partition: p.partition, offset: p.low }))
            : await admin.offsetsAt(topic, since);
        await admin.commitGroupStart(group, topic, offsets);
      });
    } catch (error) {
      // A group with running members positions itself (they read `fromBeginning`); a member that
      // is already there has decided where the group starts.
      if (error instanceof GroupActiveError) return;
      throw transportError(`Could not position group '${group}' on '${topic}'`, error, this.#secrets);
    }
  }

  async lag(topic: string, group: string): Promise<PartitionLag[]> {
    const admin = await this.admin();
    try {
      const [ends, committed] = await Promise.all([
        admin.topicOffsets(topic),
        admin.committedOffsets(group, topic),
      ]);
      const byPartition = new Map(committed.map((p) => [p.partition, p.offset]));
      return ends
        .map((end) => {
          const highWatermark = end.high;
          const offset = byPartition.get(end.partition) ?? -1;
          // No committed offset: from the log start, not 0 (KEDA #7936); one below the log start
          // points at records retention deleted, which nobody can consume any more.
          const base = Math.max(offset, end.low);
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
    this.#admin = undefined;
    if (admin) await admin.then((a) => a.disconnect()).catch(() => undefined);
  }
}

/**
 * A freshly started broker answers group requests with NOT_COORDINATOR or
 * COORDINATOR_LOAD_IN_PROGRESS for a while, and kafkajs's admin does not retry those.
 */
async function retryWhileRetriable(
  admin: AdminClient,
  operation: () => Promise<void>,
  attempts = 20,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      const retriable = (error as { retriable?: boolean }).retriable === true || admin.retriable(error);
      if (attempt >= attempts || !retriable) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.min(100 * attempt, 1_000)));
    }
  }
}
