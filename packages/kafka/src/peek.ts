import { randomUUID } from 'node:crypto';
import type { PeekedMessage } from '@switchyard/core/transport';
import type { Kafka } from 'kafkajs';
import { fromRecord } from './binding.ts';
import { transportError } from './errors.ts';
import type { OperationsAdmin } from './operations-admin.ts';

/** Most time a peek spends reading before it answers with what it has. */
const READ_DEADLINE_MS = 30_000;

interface Range {
  readonly from: number;
  readonly to: number;
  readonly read: PeekedMessage[];
  done: boolean;
}

/**
 * Kafka: read each partition from the group's committed offset (its log start where it has none) to
 * the high watermark with a throwaway consumer group of its own, which commits nothing and is
 * deleted after, so the group's members and offsets are untouched. A record past the committed
 * offset that a member settled but has not committed yet is shown too: Kafka only knows the offset.
 * Oldest first by record timestamp across partitions.
 */
export async function peekKafka(
  kafka: Kafka,
  operations: OperationsAdmin,
  topic: string,
  groupId: string,
  limit: number,
  secrets: readonly string[],
): Promise<PeekedMessage[]> {
  if (limit <= 0) return [];
  const admin = await operations.admin();
  const ranges = new Map<number, Range>();
  try {
    const topics = await admin.listTopics();
    if (!topics.includes(topic)) return [];
    const [ends, committed] = await Promise.all([
      admin.fetchTopicOffsets(topic),
      admin.fetchOffsets({ groupId, topics: [topic] }),
    ]);
    const at = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
    for (const end of ends) {
      const offset = at.get(end.partition) ?? -1;
      const from = offset >= 0 ? offset : Number(end.low);
      const to = Number(end.high);
      if (from < to) ranges.set(end.partition, { from, to, read: [], done: false });
    }
  } catch (error) {
    throw transportError(`Could not read the offsets of '${groupId}' on '${topic}'`, error, secrets);
  }
  if (ranges.size === 0) return [];

  const peekGroup = `${groupId}.peek-${randomUUID()}`;
  const consumer = kafka.consumer({
    groupId: peekGroup,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 100,
  });
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, READ_DEADLINE_MS);
      const finish = () => {
        if ([...ranges.values()].every((range) => range.done)) {
          clearTimeout(timer);
          resolve();
        }
      };
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            const range = ranges.get(partition);
            const offset = Number(message.offset);
            if (range === undefined || range.done || offset < range.from) return;
            if (offset < range.to) {
              range.read.push({ message: fromRecord(message), writtenAt: Number(message.timestamp) });
            }
            if (offset >= range.to - 1 || range.read.length >= limit) {
              range.done = true;
              finish();
            }
          },
        })
        .then(() => {
          // Start each partition at the group's position rather than the log start.
          for (const [partition, range] of ranges)
            consumer.seek({ topic, partition, offset: String(range.from) });
        }, reject);
    });
  } catch (error) {
    throw transportError(`Could not peek at '${groupId}' on '${topic}'`, error, secrets);
  } finally {
    await consumer.disconnect().catch(() => {});
    await admin.deleteGroups([peekGroup]).catch(() => {});
  }
  const all = [...ranges.values()].flatMap((range) => range.read);
  // Stable: records of one partition with equal timestamps keep their offset order.
  return all.sort((a, b) => (a.writtenAt ?? 0) - (b.writtenAt ?? 0)).slice(0, limit);
}
