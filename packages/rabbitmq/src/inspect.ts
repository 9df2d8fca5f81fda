import { NotFoundError } from '@switchyard/core';
import type { GroupStats } from '@switchyard/core/transport';
import type { ManagementApi } from './management.ts';
import { queueName } from './names.ts';
import type { Topology } from './topology.ts';

/** What a consumer of this transport holds: from `Consumer.held()`. */
export interface LocalHold {
  readonly queue: string;
  readonly consuming: boolean;
  readonly unsettled: number;
}

const NOT_CLAIMED = 'not read: RabbitMQ keeps no age for a quorum queue’s messages; null';

const MANAGEMENT = {
  backlog:
    'messages_ready + messages_unacknowledged of the group queue (management API; its figures lag by up to the statistics interval, 5 s by default)',
  inFlight: 'messages_unacknowledged (management API): delivered to a consumer and not yet acked',
  oldestAge: NOT_CLAIMED,
  position:
    'message_stats.ack: acks the queue counted since its statistics began (management API); null where not collected',
  consumers:
    'consumers of the group queue (management API); with single active consumer the waiting ones count too',
} as const;

const AMQP_ALL_LOCAL = {
  backlog:
    'ready messages (AMQP passive declare) + unacked ones held by this process’s consumers, which are all of the queue’s consumers',
  inFlight: 'unacked deliveries held by this process’s consumers (all of the queue’s consumers)',
  oldestAge: NOT_CLAIMED,
  position: 'none over AMQP; null (configure managementUrl for one)',
  consumers: 'consumers of the group queue (AMQP passive declare)',
} as const;

const AMQP_READY_ONLY = {
  backlog:
    'ready messages only (AMQP passive declare): the unacked ones held by consumers in other processes are not counted; configure managementUrl to count them',
  inFlight: 'not known over AMQP with consumers in other processes; null (configure managementUrl)',
  oldestAge: NOT_CLAIMED,
  position: 'none over AMQP; null (configure managementUrl for one)',
  consumers: 'consumers of the group queue (AMQP passive declare)',
} as const;

/**
 * A group queue's figures: from the management API when configured (ready + unacked), else from a
 * passive declare (ready only), plus this process's unacked deliveries when its consumers are all
 * the queue has. Messages waiting in a delay tier for a retry are in neither queue count.
 */
export async function inspectRabbitMq(
  topology: Topology,
  management: ManagementApi | undefined,
  local: readonly LocalHold[],
  topic: string,
  group: string,
): Promise<GroupStats> {
  const queue = queueName(topic, group);
  if (management !== undefined) {
    const figures = await management.queue(queue);
    if (figures === undefined) throw await notFound(topology, topic, group);
    return {
      backlog: figures.ready + figures.unacked,
      inFlight: figures.unacked,
      oldestAgeMs: null,
      position: figures.acked === undefined ? null : String(figures.acked),
      consumers: figures.consumers ?? null,
      definitions: MANAGEMENT,
    };
  }
  const checked = await topology.checkGroup(topic, group);
  if (checked === undefined) throw await notFound(topology, topic, group);
  const ours = local.filter((hold) => hold.queue === queue);
  const consuming = ours.filter((hold) => hold.consuming).length;
  // Ours are all the queue's consumers: what they hold is all it has unacked (stopped ones included).
  const allLocal = consuming === checked.consumerCount;
  const unacked = allLocal ? ours.reduce((sum, hold) => sum + hold.unsettled, 0) : null;
  return {
    backlog: checked.messageCount + (unacked ?? 0),
    inFlight: unacked,
    oldestAgeMs: null,
    position: null,
    consumers: checked.consumerCount,
    definitions: allLocal ? AMQP_ALL_LOCAL : AMQP_READY_ONLY,
  };
}

async function notFound(topology: Topology, topic: string, group: string): Promise<NotFoundError> {
  if (!(await topology.topicExists(topic))) return new NotFoundError('topic', topic);
  return new NotFoundError('group', group, `No group '${group}' on '${topic}'`);
}
