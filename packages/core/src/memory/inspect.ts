import { NotFoundError } from '../errors.ts';
import type { GroupStats } from '../ops/stats.ts';
import type { MemoryBroker } from './broker.ts';

const DEFINITIONS = {
  backlog: 'messages enqueued for the group and not yet acked (waiting, delayed for a retry, or in flight)',
  inFlight: 'messages handed to a member and not yet settled',
  oldestAge: 'time since the oldest message not yet acked reached the group',
  position: 'messages the group acked since it was created',
  consumers: 'members subscribed to the group',
} as const;

/** memory://: every figure is exact, read from the group itself. */
export function inspectMemory(broker: MemoryBroker, topic: string, group: string): GroupStats {
  const found = broker.find(topic, group);
  if (!found.topic) throw new NotFoundError('topic', topic);
  if (found.group === undefined) throw new NotFoundError('group', group, `No group '${group}' on '${topic}'`);
  const { inFlight, oldestAt } = found.group.outstanding();
  return {
    backlog: found.group.depth,
    inFlight,
    oldestAgeMs: oldestAt === undefined ? null : Math.max(0, Date.now() - oldestAt),
    position: String(found.group.acked),
    consumers: found.group.activeMembers,
    definitions: DEFINITIONS,
  };
}
