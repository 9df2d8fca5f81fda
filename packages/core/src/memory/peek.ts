import type { PeekedMessage } from '../ops/stats.ts';
import type { MemoryBroker } from './broker.ts';

/**
 * memory://: the group's messages not yet acked (waiting, delayed or in flight), oldest enqueued
 * first, read in place. A group that does not exist has nothing to show.
 */
export function peekMemory(
  broker: MemoryBroker,
  topic: string,
  group: string,
  limit: number,
): PeekedMessage[] {
  const found = broker.find(topic, group).group;
  if (found === undefined || limit <= 0) return [];
  // Stable: messages enqueued in the same millisecond keep their key's order.
  const entries = [...found.unacked()].sort((a, b) => a.at - b.at);
  return entries.slice(0, limit).map((entry) => ({ message: entry.message, writtenAt: entry.at }));
}
