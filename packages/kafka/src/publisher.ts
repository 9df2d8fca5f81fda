import { ClosedError, MessageTooLargeError } from '@switchyard/core';
import { encodedSize, encodedSizeBound, type WireMessage } from '@switchyard/core/transport';
import { type ICustomPartitioner, type Message, Partitioners, type TopicMessages } from 'kafkajs';
import { recordSize, toRecord } from './binding.ts';
import type { RecordSender } from './client.ts';
import { publishError } from './errors.ts';

interface Chunk {
  readonly topic: string;
  readonly records: Message[];
  readonly bytes: number;
  readonly settle: (error?: unknown) => void;
}

/**
 * kafkajs's default partitioner, except that a record keeps the partition it was first given.
 *
 * kafkajs partitions a batch again on every retry of one `sendBatch`, and spreads records without
 * a key round-robin, so a retry puts other records into each partition. With an idempotent
 * producer that is wrong: after a partial failure (a broker coming back answers NOT_LEADER for
 * some partitions and appends to the others) kafkajs rewinds the sequence numbers of every
 * partition of the request and resends. The same records under the same sequence numbers are
 * deduplicated by the broker, as they should be; other records under those numbers are either
 * refused with OUT_OF_ORDER_SEQUENCE_NUMBER or, when the count happens to match, taken for the
 * duplicate of the batch already written and silently dropped.
 */
export const retryStablePartitioner: ICustomPartitioner = () => {
  const partition = Partitioners.DefaultPartitioner();
  // The choice is written on the record itself (toRecord's own object, which kafkajs's partitioners
  // honour when set): cheaper than a WeakMap entry per record, and gone with the record.
  return (args) => (args.message.partition ??= partition(args));
};

/**
 * One idempotent producer, one send in flight at a time. Concurrent publishes queue up and leave
 * together in the next request (one record batch per partition), which is how a single producer
 * gets throughput without the out-of-order-sequence failures kafkajs shows when an idempotent
 * producer has several sends in flight. A request never exceeds `budget` bytes of records, so no
 * partition's record batch can pass `max.message.bytes`.
 *
 * A send that fails leaves the producer's sequence numbers in doubt: kafkajs rewinds them, but the
 * broker may have written some or all of the request (a response lost to a broker restart, a
 * partial failure). Every later send on that producer is then refused with
 * OUT_OF_ORDER_SEQUENCE_NUMBER, forever, or a later batch of the same size is taken for a
 * duplicate and dropped. So a failed send retires its producer, and the next send starts a new
 * one (a new producer id, sequences from 0); the failed publish, if retried, may duplicate but is
 * never lost, which is what a rejected publish promises.
 */
export class Publisher {
  readonly #connect: () => Promise<RecordSender>;
  #producer: Promise<RecordSender> | undefined;
  #closed = false;
  readonly #limit: number;
  readonly #budget: number;
  readonly #secrets: readonly string[];
  readonly #queue: Chunk[] = [];
  #sending = false;

  /** `connect`: a new, connected producer (the first one, and one after each failed send). */
  constructor(
    connect: () => Promise<RecordSender>,
    limits: { maxMessageBytes: number; budget: number },
    secrets: readonly string[],
  ) {
    this.#connect = connect;
    this.#limit = limits.maxMessageBytes;
    this.#budget = limits.budget;
    this.#secrets = secrets;
  }

  /** The current producer, connected on first use (and again after a failed send retired it). */
  producer(): Promise<RecordSender> {
    if (this.#closed) return Promise.reject(new ClosedError('kafka transport'));
    if (!this.#producer) {
      const connecting = this.#connect();
      this.#producer = connecting;
      connecting.catch(() => this.#retire(connecting));
    }
    return this.#producer;
  }

  #retire(producer: Promise<RecordSender>): void {
    if (this.#producer !== producer) return;
    this.#producer = undefined;
    producer.then((p) => p.disconnect()).catch(() => undefined);
  }

  /** Disconnects the producer; sends still queued fail with ClosedError. */
  async close(): Promise<void> {
    this.#closed = true;
    const producer = this.#producer;
    this.#producer = undefined;
    if (producer) await producer.then((p) => p.disconnect()).catch(() => undefined);
  }

  /**
   * Each record's bytes with its framing, checked against what a produce request can carry (the
   * declared limit is core's to check, by the bus before any transport). Upper bounds that read no
   * text first (`encodedSizeBound`): when together they fit one request, as a single publish or a
   * usual batch does, no character is scanned; otherwise exact sizes, so chunks are as full as the
   * budget allows and only a record really too large is refused.
   */
  #sizes(messages: readonly WireMessage[]): number[] {
    let total = 0;
    const bounds = messages.map((message) => {
      const bound = recordSize(message, encodedSizeBound(message));
      total += bound;
      return bound;
    });
    if (total <= this.#budget) return bounds;
    return messages.map((message, index) => {
      const recordBytes = recordSize(message);
      if (recordBytes > this.#budget) throw new MessageTooLargeError(recordBytes, this.#budget, index);
      return recordBytes;
    });
  }

  /** Checks sizes before anything is sent, then resolves once the broker acked every record (acks=all). */
  async publish(topic: string, messages: readonly WireMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const sizes = this.#sizes(messages);
    // Chunks of at most `budget` record bytes, each settled when its request is acked.
    const pending: Promise<void>[] = [];
    for (let start = 0; start < messages.length; ) {
      const records: Message[] = [];
      let bytes = 0;
      let end = start;
      for (; end < messages.length && (end === start || bytes + sizes[end]! <= this.#budget); end++) {
        records.push(toRecord(messages[end]!));
        bytes += sizes[end]!;
      }
      const first = start;
      const last = end;
      pending.push(
        new Promise<void>((resolve, reject) => {
          this.#queue.push({
            topic,
            records,
            bytes,
            settle: (error) => {
              if (error === undefined) resolve();
              else reject({ error, indexes: Array.from({ length: last - first }, (_, i) => first + i) });
            },
          });
        }),
      );
      start = end;
    }
    this.#pump();
    const outcomes = await Promise.allSettled(pending);
    const failed = outcomes.flatMap((o) =>
      o.status === 'rejected' ? [o.reason as { error: unknown; indexes: number[] }] : [],
    );
    if (failed.length === 0) return;
    const indexes = failed.flatMap((f) => f.indexes);
    throw publishError(
      failed[0]!.error,
      indexes,
      messages.length,
      indexes.map((i) => encodedSize(messages[i]!)),
      this.#limit,
      this.#secrets,
    );
  }

  #pump(): void {
    if (this.#sending || this.#queue.length === 0) return;
    this.#sending = true;
    const taken: Chunk[] = [];
    let bytes = 0;
    while (this.#queue.length > 0 && (taken.length === 0 || bytes + this.#queue[0]!.bytes <= this.#budget)) {
      const chunk = this.#queue.shift()!;
      taken.push(chunk);
      bytes += chunk.bytes;
    }
    const byTopic = new Map<string, Message[]>();
    for (const chunk of taken) {
      const records = byTopic.get(chunk.topic);
      if (records) records.push(...chunk.records);
      else byTopic.set(chunk.topic, [...chunk.records]);
    }
    const topicMessages: TopicMessages[] = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
    const producer = this.producer();
    producer
      .then((p) => p.sendBatch({ topicMessages, acks: -1 }))
      .then(
        () => {
          for (const chunk of taken) chunk.settle();
        },
        (error: unknown) => {
          this.#retire(producer);
          for (const chunk of taken) chunk.settle(error ?? new Error('send failed'));
        },
      )
      .finally(() => {
        this.#sending = false;
        this.#pump();
      });
  }

  /** Sends still queued or in flight. */
  get idle(): boolean {
    return !this.#sending && this.#queue.length === 0;
  }
}
