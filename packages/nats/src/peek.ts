import { DeliverPolicy } from '@nats-io/jetstream';
import type { PeekedMessage } from '@switchyard/core/transport';
import { fromNats } from './binding.ts';
import type { Connection } from './connection.ts';
import { isConsumerNotFound, isStreamNotFound, toSwitchyardError } from './errors.ts';
import { durableNameFor } from './names.ts';
import type { Topology } from './topology.ts';

/** How long one fetch waits for messages the stream has (they are there: this only bounds a stall). */
const FETCH_EXPIRES_MS = 2_000;
const FETCH_MAX = 500;

/**
 * JetStream: read the stream from just above the group's ack floor with an ordered consumer of its
 * own (ephemeral, never acks), so the durable's deliveries, acks and redelivery counts are
 * untouched. Reads as many as the durable has unsettled (num_pending + num_ack_pending); a message
 * above the floor that was acked out of order is shown too, JetStream does not say which those are.
 */
export async function peekNats(
  connection: Connection,
  topology: Topology,
  topic: string,
  group: string,
  limit: number,
): Promise<PeekedMessage[]> {
  if (limit <= 0) return [];
  const { stream } = topology.address(topic);
  let floor: number;
  let unsettled: number;
  try {
    const info = await connection.jsm.consumers.info(stream, durableNameFor(group));
    floor = info.ack_floor.stream_seq;
    unsettled = info.num_pending + info.num_ack_pending;
  } catch (error) {
    if (isStreamNotFound(error) || isConsumerNotFound(error)) return [];
    throw toSwitchyardError(error, `peeking at group '${group}' of '${topic}'`);
  }
  const want = Math.min(limit, unsettled);
  if (want === 0) return [];
  const peeked: PeekedMessage[] = [];
  try {
    const reader = await connection.js.consumers.get(stream, {
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: floor + 1,
    });
    try {
      let more = true;
      while (more && peeked.length < want) {
        const batch = await reader.fetch({
          max_messages: Math.min(want - peeked.length, FETCH_MAX),
          expires: FETCH_EXPIRES_MS,
        });
        let got = 0;
        for await (const message of batch) {
          got += 1;
          peeked.push({
            message: fromNats(message.headers, message.data),
            writtenAt: message.time.getTime(),
          });
          if (message.info.pending === 0) more = false;
        }
        if (got === 0) more = false;
      }
    } finally {
      await reader.delete().catch(() => {});
    }
  } catch (error) {
    throw toSwitchyardError(error, `peeking at group '${group}' of '${topic}'`);
  }
  return peeked.slice(0, limit);
}
