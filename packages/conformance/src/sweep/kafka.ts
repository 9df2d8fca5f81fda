import kafkajs from 'kafkajs';
import { isLeftoverTopic } from './prefixes.ts';
import type { SweepCount, SweepOptions } from './types.ts';

const { Kafka, logLevel } = kafkajs;

/** Topics and consumer groups (named `<topic>.<group>` by the transport) left by tests and demos. */
export async function sweepKafka(
  brokers: string,
  { dryRun = false, match = isLeftoverTopic }: SweepOptions = {},
): Promise<SweepCount> {
  const admin = new Kafka({
    clientId: 'switchyard-sweep',
    brokers: brokers.split(',').map((b) => b.trim().replace(/^kafka:\/\//, '')),
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter(match);
    const { groups } = await admin.listGroups();
    const groupIds = groups.map((g) => g.groupId).filter(match);
    if (!dryRun) {
      if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 60_000 });
      if (groupIds.length > 0) await admin.deleteGroups(groupIds).catch(() => {});
    }
    return { names: topics.length, extra: groupIds.length, what: 'topics', extraWhat: 'groups' };
  } finally {
    await admin.disconnect();
  }
}
