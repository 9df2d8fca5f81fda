import { encodedSize, MessageTooLargeError, type WireMessage } from '@switchyard/core';
import type { Message, Producer, TopicMessages } from 'kafkajs';
import { publishError } from './errors.ts';
import { recordSize, toRecord } from './wire.ts';

interface Chunk {
  readonly topic: string;
  readonly records: Message[];
  readonly bytes: number;
  readonly settle: (error?: unknown) => void;
}

/**
 * One idempotent producer, one send in flight at a time. Concurrent publishes queue up and leave
 * together in the next request (one record batch per partition), which is how a single producer
 * gets throughput without the out-of-order-sequence failures kafkajs shows when an idempotent
 * producer has several sends in flight. A request never exceeds `budget` bytes of records, so no
 * partition's record batch can pass `max.message.bytes`.
 */
export class Publisher {
  readonly #producer: Producer;
  readonly #limit: number;
  readonly #budget: number;
  readonly #secrets: readonly string[];
  readonly #queue: Chunk[] = [];
  #sending = false;

  constructor(
    producer: Producer,
    limits: { maxMessageBytes: number; budget: number },
    secrets: readonly string[],
  ) {
    this.#producer = producer;
    this.#limit = limits.maxMessageBytes;
    this.#budget = limits.budget;
    this.#secrets = secrets;
  }

  /** Checks sizes before anything is sent, then resolves once the broker acked every record (acks=all). */
  async publish(topic: string, messages: readonly WireMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const sizes = messages.map((m) => recordSize(m));
    for (const [index, message] of messages.entries()) {
      const size = encodedSize(message);
      if (size > this.#limit || sizes[index]! > this.#budget)
        throw new MessageTooLargeError(size, this.#limit, index);
    }
    const pending: Promise<void>[] = [];
    const chunks: number[][] = [];
    let current: number[] = [];
    let bytes = 0;
    for (const [index, size] of sizes.entries()) {
      if (current.length > 0 && bytes + size > this.#budget) {
        chunks.push(current);
        current = [];
        bytes = 0;
      }
      current.push(index);
      bytes += size;
    }
    chunks.push(current);
    for (const indexes of chunks) {
      pending.push(
        new Promise<void>((resolve, reject) => {
          this.#queue.push({
            topic,
            records: indexes.map((i) => toRecord(messages[i]!)),
            bytes: indexes.reduce((sum, i) => sum + sizes[i]!, 0),
            settle: (error) => {
              if (error === undefined) resolve();
              else reject({ error, indexes });
            },
          });
        }),
      );
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
    this.#producer
      .sendBatch({ topicMessages, acks: -1 })
      .then(
        () => {
          for (const chunk of taken) chunk.settle();
        },
        (error: unknown) => {
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
