import { Kafka, logLevel } from 'kafkajs';
import { BROKERS } from './helpers.ts';

/**
 * Delete the topics a test file left on the broker (every name starting with `prefix`). A broker
 * kept between runs (`pnpm brokers up`) otherwise loads more topics' logs and metadata at every
 * start. Best effort: it never fails a test.
 */
export async function sweep(prefix: string): Promise<void> {
  const admin = new Kafka({ brokers: BROKERS.split(','), logLevel: logLevel.NOTHING }).admin();
  try {
    await admin.connect();
    const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 30_000 });
  } catch {
    // The broker going away: what is left is swept next time.
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
