import type { JetStreamManager } from '@nats-io/jetstream';
import { NotFoundError } from '@switchyard/core';
import type { GroupStats } from '@switchyard/core/transport';
import { isConsumerNotFound, isStreamNotFound, toSwitchyardError } from './errors.ts';
import { durableNameFor } from './names.ts';
import type { Topology } from './topology.ts';

const DEFINITIONS = {
  backlog:
    'num_pending + num_ack_pending of the durable consumer: messages not yet delivered plus delivered and not yet acked',
  inFlight:
    'num_ack_pending: delivered to a member and not yet acked (a nack with delay stays here until redelivered)',
  oldestAge:
    'age of the stream message right after the ack floor, the oldest not yet acked; null when nothing waits',
  position: 'ack floor stream sequence: every message up to it is acked',
  consumers: 'not known: members pull from a durable consumer, which does not list them; null',
} as const;

/** JetStream: one consumer info, plus one stream message read for the oldest age when something waits. */
export async function inspectNats(
  jsm: JetStreamManager,
  topology: Topology,
  topic: string,
  group: string,
): Promise<GroupStats> {
  const { stream } = topology.address(topic);
  let info: Awaited<ReturnType<JetStreamManager['consumers']['info']>>;
  try {
    info = await jsm.consumers.info(stream, durableNameFor(group));
  } catch (error) {
    if (isStreamNotFound(error)) throw new NotFoundError('topic', topic);
    if (isConsumerNotFound(error))
      throw new NotFoundError('group', group, `No group '${group}' on '${topic}'`);
    throw toSwitchyardError(error, `inspecting group '${group}' on '${topic}'`);
  }
  const backlog = info.num_pending + info.num_ack_pending;
  const floor = info.ack_floor.stream_seq;
  return {
    backlog,
    inFlight: info.num_ack_pending,
    oldestAgeMs: backlog > 0 ? await ageAt(jsm, stream, floor + 1) : null,
    position: String(floor),
    consumers: null,
    definitions: DEFINITIONS,
  };
}

/** Age of the message at `seq`; null when it is gone (deleted, or a race with retention). */
async function ageAt(jsm: JetStreamManager, stream: string, seq: number): Promise<number | null> {
  try {
    const message = await jsm.streams.getMessage(stream, { seq });
    return message === null ? null : Math.max(0, Date.now() - message.time.getTime());
  } catch {
    return null;
  }
}
