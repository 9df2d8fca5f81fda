import type { Kafka } from 'kafkajs';
import { GroupActiveError } from './client.ts';

interface Coordinator {
  offsetCommit(request: {
    groupId: string;
    groupGenerationId: number;
    memberId: string;
    topics: Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>;
  }): Promise<{ responses: Array<{ partitions: Array<{ errorCode: number }> }> }>;
}

export interface Cluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  findGroupCoordinator(request: { groupId: string }): Promise<Coordinator>;
}

/**
 * kafkajs's own cluster client, which its `Kafka` object keeps behind a symbol. kafkajs has no
 * public way to commit offsets for a group without joining it (`admin.setOffsets` starts a whole
 * consumer and waits out a fetch: five seconds per new group), while Kafka's own AdminClient
 * does it with one OffsetCommit at generation -1. kafkajs 2.2.4 is its last release, so this
 * internal does not move; when it is not there, `undefined` sends the caller to `setOffsets`.
 */
export function clusterOf(kafka: Kafka): Cluster | undefined {
  const symbol = Object.getOwnPropertySymbols(kafka).find(
    (s) => s.description === 'private:Kafka:createCluster',
  );
  const create = symbol ? (kafka as unknown as Record<symbol, unknown>)[symbol] : undefined;
  if (typeof create !== 'function') return undefined;
  return (create as (o: { allowAutoTopicCreation: boolean }) => Cluster)({ allowAutoTopicCreation: false });
}

/**
 * Commit `partitions` as the group's start, as a non-member (generation -1, no member id): the
 * broker accepts this only while the group has no members, which is exactly when a group is new.
 */
export async function commitGroupStart(
  cluster: Cluster,
  group: string,
  topic: string,
  partitions: ReadonlyArray<{ partition: number; offset: string }>,
): Promise<void> {
  const coordinator = await cluster.findGroupCoordinator({ groupId: group });
  try {
    await coordinator.offsetCommit({
      groupId: group,
      groupGenerationId: -1,
      memberId: '',
      topics: [{ topic, partitions: partitions.map((p) => ({ partition: p.partition, offset: p.offset })) }],
    });
  } catch (error) {
    const type = (error as { type?: string }).type;
    if (type === 'ILLEGAL_GENERATION' || type === 'UNKNOWN_MEMBER_ID' || type === 'REBALANCE_IN_PROGRESS') {
      throw new GroupActiveError(type);
    }
    throw error;
  }
}
