import { TransportError } from '@switchyard/core';
import { settleOnce, type TransportDelivery, type WireMessage } from '@switchyard/core/transport';
import type { Channel, ConsumeMessage } from 'amqplib';
import { describe } from './errors.ts';
import type { Retarder } from './retarder.ts';

/** What settling one delivery needs from the consumer that received it. */
export interface DeliveryContext {
  /** The channel it arrived on: only that channel can ack or nack it. */
  readonly channel: Channel;
  readonly message: ConsumeMessage;
  /** The group's queue, where a delayed copy comes back to. */
  readonly queue: string;
  readonly retarder: Retarder;
  /** Whether the channel is gone: the broker has taken the message back and redelivers it. */
  readonly dead: () => boolean;
  /** Called once the settle is done, either way. */
  readonly settled: () => void;
  /** Give the message back without delay (the consumer decides how: see Consumer#giveBack). */
  readonly giveBack: () => void;
}

/**
 * One message handed to a group member, settled once: ack and nack on the channel it came on, a
 * delayed nack through a delay queue (the copy comes back as a new message).
 */
export function createDelivery(
  wire: WireMessage,
  attempt: number,
  context: DeliveryContext,
): TransportDelivery {
  const { channel, message } = context;
  const settle = async (action: () => Promise<void> | void): Promise<void> => {
    try {
      if (context.dead()) throw new Error('Channel closed');
      await action();
    } catch (error) {
      throw new TransportError(
        `Cannot settle: the channel that delivered this message is gone (${describe(error)}); the broker redelivers it`,
        { cause: error },
      );
    } finally {
      context.settled();
    }
  };
  return settleOnce(wire, attempt, {
    ack: () => settle(() => channel.ack(message)),
    nack: (delayMs) =>
      settle(async () => {
        if (delayMs <= 0) {
          context.giveBack();
          return;
        }
        // The copy goes through a delay queue and comes back as a new message; the original is
        // acked only once the copy is confirmed, so a failure in between duplicates, never loses.
        await context.retarder.delay(context.queue, message, delayMs, attempt, Date.now() + delayMs);
        if (context.dead()) throw new Error('Channel closed after the delayed copy was published');
        channel.ack(message);
      }),
  });
}
