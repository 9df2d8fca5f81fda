import {
  ChangeMessageVisibilityBatchCommand,
  GetQueueUrlCommand,
  type Message,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import type { PeekedMessage } from '@switchyard/core/transport';
import { fromSqs } from './binding.ts';
import type { Clients } from './clients.ts';
import { isQueueMissing, transportError } from './errors.ts';
import { groupQueueName, topicQueueName } from './names.ts';
import type { ResolvedOptions } from './options.ts';
import type { Mode } from './topology.ts';

/** How long the peek keeps what it received hidden while it reads on (it shows them again at once after). */
const HOLD_SECONDS = 30;
/** SQS hands out at most 10 per receive and per visibility batch. */
const BATCH = 10;
/** Empty receives in a row before the queue counts as read (a short poll samples only some servers). */
const EMPTY_RECEIVES = 2;

/**
 * SQS has no read without receive: receive the group queue's visible messages, each hidden while the
 * peek reads on (so none is seen twice), then make them all visible again at once. Members of the
 * group do not get them while the peek runs, and each counts one more receive
 * (ApproximateReceiveCount, which the next delivery's attempt reads). Messages a member holds are
 * not visible, so not shown. Oldest first by SentTimestamp.
 */
export async function peekSqs(
  clients: Clients,
  options: ResolvedOptions,
  mode: Mode,
  topic: string,
  group: string,
  limit: number,
): Promise<PeekedMessage[]> {
  if (limit <= 0) return [];
  const name =
    mode === 'none'
      ? topicQueueName(options.prefix, topic, options.fifo)
      : groupQueueName(options.prefix, topic, group, options.fifo);
  let url: string;
  try {
    url = (await clients.sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl!;
  } catch (error) {
    if (isQueueMissing(error)) return [];
    throw transportError('GetQueueUrl', error);
  }
  const received: Message[] = [];
  try {
    for (let empty = 0; received.length < limit && empty < EMPTY_RECEIVES; ) {
      const reply = await clients.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          MaxNumberOfMessages: Math.min(BATCH, limit - received.length),
          WaitTimeSeconds: 0,
          VisibilityTimeout: HOLD_SECONDS,
          MessageAttributeNames: ['All'],
          MessageSystemAttributeNames: ['SentTimestamp'],
        }),
      );
      const messages = reply.Messages ?? [];
      empty = messages.length === 0 ? empty + 1 : 0;
      received.push(...messages);
    }
  } catch (error) {
    throw transportError('ReceiveMessage', error);
  } finally {
    await showAgain(clients, url, received);
  }
  return received
    .map((message) => {
      const sent = Number(message.Attributes?.SentTimestamp);
      return {
        message: fromSqs(message.Body, message.MessageAttributes),
        writtenAt: Number.isFinite(sent) ? sent : null,
      };
    })
    .sort((a, b) => (a.writtenAt ?? 0) - (b.writtenAt ?? 0));
}

/** Visible again now; one that cannot be (gone, or its handle expired) shows itself after HOLD_SECONDS. */
async function showAgain(clients: Clients, url: string, messages: readonly Message[]): Promise<void> {
  const sends: Promise<unknown>[] = [];
  for (let i = 0; i < messages.length; i += BATCH) {
    const entries = messages.slice(i, i + BATCH).map((message, index) => ({
      Id: String(index),
      ReceiptHandle: message.ReceiptHandle!,
      VisibilityTimeout: 0,
    }));
    sends.push(
      clients.sqs.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: url, Entries: entries })),
    );
  }
  await Promise.allSettled(sends);
}
