import { NotFoundError } from '@switchyard/core';
import type { GroupStats } from '@switchyard/core/transport';
import { type Admin, AssignerProtocol } from 'kafkajs';
import { causes, transportError } from './errors.ts';
import type { OperationsAdmin } from './operations-admin.ts';
import type { Provisioner } from './topology.ts';

/** What a local member of the group holds: from `KafkaMember.held()`. */
export interface LocalHold {
  readonly memberId: string | undefined;
  readonly unsettled: number;
}

const DEFINITIONS = {
  backlog:
    'records not yet committed by the group: Σ over partitions of high watermark − committed offset; a partition without a committed offset counts from the log start offset, never from 0, and a committed offset below the log start (records deleted by retention) counts from the log start',
  inFlight:
    'records fetched by a member and not yet settled, known when every member of the group is in this process; null otherwise',
  oldestAge:
    'not read: the timestamp of the record at the committed offset takes a fetch of its whole record batch per partition, too much for a poll; null',
  position: 'Σ over partitions of the committed offset (the log start where none)',
  consumers: 'members of the consumer group subscribed to the topic',
} as const;

/**
 * The group's figures from one admin client: topic offsets, the group's committed offsets and its
 * members, in parallel. `local`: what members of this transport hold for (topic, group).
 */
export async function inspectKafka(
  operations: OperationsAdmin,
  provisioner: Provisioner,
  topic: string,
  groupId: string,
  local: readonly LocalHold[],
  secrets: readonly string[],
): Promise<GroupStats> {
  const admin = await operations.admin();
  try {
    // Metadata fails at once for a missing topic; the offsets request would retry for seconds.
    await admin.fetchTopicMetadata({ topics: [topic] });
  } catch (error) {
    if (causes(error).some((e) => (e as { type?: string }).type === 'UNKNOWN_TOPIC_OR_PARTITION')) {
      throw new NotFoundError('topic', topic);
    }
    throw transportError(`Could not inspect '${groupId}' on '${topic}'`, error, secrets);
  }
  const [partitions, described] = await Promise.all([
    provisioner.lag(topic, groupId),
    describe(admin, groupId, topic, secrets),
  ]);
  let backlog = 0;
  let position = 0n;
  for (const p of partitions) {
    backlog += p.lag;
    position += BigInt(p.highWatermark - p.lag);
  }
  const members = described.filter((member) => subscribesTo(member, topic));
  return {
    backlog,
    inFlight: inFlight(members, local),
    oldestAgeMs: null,
    position: position.toString(),
    consumers: members.length,
    definitions: DEFINITIONS,
  };
}

async function describe(admin: Admin, groupId: string, topic: string, secrets: readonly string[]) {
  try {
    return (await admin.describeGroups([groupId])).groups[0]?.members ?? [];
  } catch (error) {
    throw transportError(`Could not describe group '${groupId}' on '${topic}'`, error, secrets);
  }
}

/** A member's subscription, from its join metadata: a group id may be shared across topics. */
function subscribesTo(member: { memberMetadata: Buffer }, topic: string): boolean {
  try {
    return AssignerProtocol.MemberMetadata.decode(member.memberMetadata)?.topics.includes(topic) ?? true;
  } catch {
    return true;
  }
}

/** Known only when every member is one of ours: the others' fetched records are out of sight. */
function inFlight(members: ReadonlyArray<{ memberId: string }>, local: readonly LocalHold[]): number | null {
  if (members.length === 0) return 0;
  const ours = new Map(local.map((hold) => [hold.memberId, hold.unsettled]));
  let count = 0;
  for (const member of members) {
    const held = ours.get(member.memberId);
    if (held === undefined) return null;
    count += held;
  }
  return count;
}
