import { TransportError, UnsupportedOperationError } from '@switchyard/core';
import { copyBytes, type PeekedMessage } from '@switchyard/core/transport';
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { fromProperties } from './binding.ts';
import type { ConnectionManager } from './connection.ts';
import { describe } from './errors.ts';
import { exchangeName, queueName } from './names.ts';
import type { ResolvedOptions } from './options.ts';

/** How long the peek waits for the next message the queue said it has ready. */
const QUIET_MS = 500;
/** Most time spent waiting for what the peek received to be ready again. */
const GIVE_BACK_MS = 2_000;

/**
 * RabbitMQ has no read without receive, and a single-active-consumer quorum queue refuses
 * `basic.get`: consume the group's ready messages on a channel of its own, with a prefetch of what
 * is asked, never ack, and close the channel, which returns them all to the queue in their place.
 * Each counts one more delivery (`x-delivery-count`, which the next delivery's attempt reads), and
 * a member competing for the queue (without single-active-consumer) does not get them meanwhile.
 * With single-active-consumer and a member attached, a second consumer only waits as a standby,
 * so that is refused (UnsupportedOperationError) rather than answered with nothing. Messages a
 * member holds unacked are not ready, so not shown.
 */
export async function peekRabbit(
  connection: ConnectionManager,
  options: ResolvedOptions,
  topic: string,
  group: string,
  limit: number,
): Promise<PeekedMessage[]> {
  if (limit <= 0) return [];
  const queue = queueName(topic, group);
  const model = await connection.whenOpen();
  const channel: Channel = await model.createChannel();
  // A failed passive declare closes the channel: that error is answered here, not thrown at large.
  channel.on('error', () => {});
  let ready = 0;
  let taken = false;
  try {
    let consumers: number;
    try {
      ({ messageCount: ready, consumerCount: consumers } = await channel.checkQueue(queue));
    } catch (error) {
      if ((error as { code?: number }).code === 404) return [];
      throw error;
    }
    if (ready === 0) return [];
    if (options.singleActiveConsumer && consumers > 0) {
      throw new UnsupportedOperationError(
        `Cannot peek at '${group}' on '${topic}' while a member consumes it: its queue has a single active consumer, so RabbitMQ refuses basic.get and holds a second consumer as a standby`,
      );
    }
    const want = Math.min(limit, ready);
    await channel.prefetch(want);
    taken = true;
    const exchange = exchangeName(topic);
    const peeked: PeekedMessage[] = [];
    await new Promise<void>((resolve, reject) => {
      let quiet = setTimeout(resolve, QUIET_MS * 4);
      const onMessage = (message: ConsumeMessage | null) => {
        if (message === null) return resolve();
        const routingKey = message.fields.exchange === exchange ? message.fields.routingKey : undefined;
        const wire = fromProperties(message.properties, message.content, routingKey);
        const stamp = message.properties.timestamp as number | undefined;
        peeked.push({
          message: { ...wire, body: copyBytes(wire.body) },
          writtenAt: typeof stamp === 'number' ? stamp * 1_000 : null,
        });
        clearTimeout(quiet);
        if (peeked.length >= want) resolve();
        else quiet = setTimeout(resolve, QUIET_MS);
      };
      channel.consume(queue, onMessage, { noAck: false }).catch(reject);
    });
    return peeked;
  } catch (error) {
    if (error instanceof UnsupportedOperationError) throw error;
    throw new TransportError(`Cannot peek at '${group}' on '${topic}': ${describe(error)}`, { cause: error });
  } finally {
    // Closing the channel gives back everything it received, unacked, in queue order.
    await channel.close().catch(() => {});
    if (taken) await readyAgain(model, queue, ready);
  }
}

/**
 * A quorum queue takes a closed channel's messages back a moment after the close: wait (briefly)
 * until they are ready again, so a peek right after this one sees them too.
 */
async function readyAgain(model: ChannelModel, queue: string, ready: number): Promise<void> {
  const deadline = Date.now() + GIVE_BACK_MS;
  const channel = await model.createChannel().catch(() => undefined);
  if (channel === undefined) return;
  channel.on('error', () => {});
  try {
    while (Date.now() < deadline) {
      const { messageCount } = await channel.checkQueue(queue);
      if (messageCount >= ready) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } catch {
    // Gone, or the connection with it: nothing to wait for.
  } finally {
    await channel.close().catch(() => {});
  }
}
