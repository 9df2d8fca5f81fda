import { GetQueueAttributesCommand, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { NotFoundError } from '@switchyard/core';
import type { GroupStats } from '@switchyard/core/transport';
import type { Clients } from './clients.ts';
import { isQueueMissing, transportError } from './errors.ts';
import { groupQueueName, topicQueueName } from './names.ts';
import type { ResolvedOptions } from './options.ts';
import type { Mode } from './topology.ts';

const DEFINITIONS = {
  backlog:
    'ApproximateNumberOfMessages + …NotVisible + …Delayed of the group queue: visible, received and not yet deleted, and delayed (approximate, as SQS counts them)',
  inFlight:
    'ApproximateNumberOfMessagesNotVisible: received by a member and not yet deleted (a nack with delay stays here until it is visible again)',
  oldestAge: 'not available: SQS reports ApproximateAgeOfOldestMessage only as a CloudWatch metric; null',
  position: 'none: SQS keeps no position for a queue; null (no STALL is claimed)',
  consumers: 'not known: SQS does not list receivers; null (no STOP is claimed)',
} as const;

const ATTRIBUTES = [
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed',
] as const;

/** SQS: one GetQueueAttributes on the group's queue (the topic's single queue when fan-out is off). */
export async function inspectSqs(
  clients: Clients,
  options: ResolvedOptions,
  mode: Mode,
  topic: string,
  group: string,
): Promise<GroupStats> {
  const name =
    mode === 'none'
      ? topicQueueName(options.prefix, topic, options.fifo)
      : groupQueueName(options.prefix, topic, group, options.fifo);
  let url: string;
  try {
    url = (await clients.sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl!;
  } catch (error) {
    if (!isQueueMissing(error)) throw transportError('GetQueueUrl', error);
    if (mode === 'none') throw new NotFoundError('topic', topic);
    throw new NotFoundError('group', group, `No group '${group}' on '${topic}'`);
  }
  let attributes: Partial<Record<string, string>>;
  try {
    attributes =
      (
        await clients.sqs.send(
          new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: [...ATTRIBUTES] }),
        )
      ).Attributes ?? {};
  } catch (error) {
    if (isQueueMissing(error)) throw new NotFoundError('group', group, `No group '${group}' on '${topic}'`);
    throw transportError('GetQueueAttributes', error);
  }
  const [visible, notVisible, delayed] = ATTRIBUTES.map((a) => Number(attributes[a] ?? 0));
  return {
    backlog: visible! + notVisible! + delayed!,
    inFlight: notVisible!,
    oldestAgeMs: null,
    position: null,
    consumers: null,
    definitions: DEFINITIONS,
  };
}
