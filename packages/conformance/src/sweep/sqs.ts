import { createHash } from 'node:crypto';
import {
  DeleteTopicCommand,
  ListTopicsCommand,
  type ListTopicsCommandOutput,
  SNSClient,
} from '@aws-sdk/client-sns';
import {
  DeleteQueueCommand,
  ListQueuesCommand,
  type ListQueuesCommandOutput,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { isLeftoverTopic, unescapeName } from './prefixes.ts';
import type { SweepCount, SweepOptions } from './types.ts';

// As @switchyard/sqs names them (src/names.ts fitName): escaped, and past `max` characters cut
// and ended in `_h` plus a hash of the whole name. Conformance cannot import the transport.
function fitName(name: string, max: number): string {
  let escaped = '';
  for (const char of name)
    escaped += /^[A-Za-z0-9-]$/.test(char)
      ? char
      : [...Buffer.from(char)].map((b) => `_${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
  if (escaped.length <= max) return escaped;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 16);
  return `${escaped.slice(0, max - hash.length - 2).replace(/_[0-9A-F]?$/, '')}_h${hash}`;
}

/** Physical names of exactly these topics: group queues, the shared queue, the SNS topic. */
function exactly(topics: readonly string[]): (name: string) => boolean {
  const groupHeads = topics.map((t) => `${fitName(t, 30)}__`);
  const whole = new Set(topics.flatMap((t) => [fitName(t, 80), fitName(t, 200)]));
  return (name) => whole.has(name.replace(/\.fifo$/, '')) || groupHeads.some((head) => name.startsWith(head));
}

const config = (endpoint: string) => ({
  endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});

/** Queues and SNS topics left by tests and demos, on an emulator (or an account) at `endpoint`. */
export async function sweepSqs(
  endpoint: string,
  { dryRun = false, match = isLeftoverTopic, topics }: SweepOptions = {},
): Promise<SweepCount> {
  // Queue and topic names are the escaped Switchyard topic (then `__<group>` or `.fifo`).
  const isLeftover = topics ? exactly(topics) : (name: string) => match(unescapeName(name));
  const sqs = new SQSClient(config(endpoint));
  const sns = new SNSClient(config(endpoint));
  try {
    const queueUrls: string[] = [];
    let next: string | undefined;
    do {
      const page: ListQueuesCommandOutput = await sqs.send(
        new ListQueuesCommand({ MaxResults: 1000, NextToken: next }),
      );
      queueUrls.push(...(page.QueueUrls ?? []));
      next = page.NextToken;
    } while (next);
    const queues = queueUrls.filter((url) => isLeftover(url.slice(url.lastIndexOf('/') + 1)));
    const topicArns: string[] = [];
    next = undefined;
    do {
      const page: ListTopicsCommandOutput = await sns.send(new ListTopicsCommand({ NextToken: next }));
      for (const topic of page.Topics ?? []) if (topic.TopicArn) topicArns.push(topic.TopicArn);
      next = page.NextToken;
    } while (next);
    const topics = topicArns.filter((arn) => isLeftover(arn.slice(arn.lastIndexOf(':') + 1)));
    if (!dryRun) {
      for (const QueueUrl of queues) await sqs.send(new DeleteQueueCommand({ QueueUrl }));
      for (const TopicArn of topics) await sns.send(new DeleteTopicCommand({ TopicArn }));
    }
    return { names: queues.length, what: 'queues', extra: topics.length, extraWhat: 'SNS topics' };
  } finally {
    sqs.destroy();
    sns.destroy();
  }
}
