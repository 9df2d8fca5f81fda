import { randomUUID } from 'node:crypto';
import type { ProbeResult } from '../types.ts';
import { retryUntil } from '../wait.ts';
import { sns, sqs, xmlValue } from './aws-http.ts';

interface Message {
  readonly Body: string;
  readonly ReceiptHandle: string;
}

async function receiveOne(endpoint: string, queueUrl: string): Promise<Message> {
  return retryUntil(
    async () => {
      const { body } = await sqs<{ Messages?: Message[] }>(endpoint, 'ReceiveMessage', {
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 1,
        WaitTimeSeconds: 1,
      });
      const message = body.Messages?.[0];
      if (!message) throw new Error('the sent message was not received');
      await sqs(endpoint, 'DeleteMessage', { QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle });
      return message;
    },
    { timeoutMs: 10_000, intervalMs: 0 },
  );
}

/**
 * A real round trip: create a queue, send, receive, delete. Then SNS fan-out on the same
 * endpoint (topic -> SQS subscription -> publish -> receive): `sns` says whether it works.
 */
export async function probeSqs(endpoint: string): Promise<ProbeResult> {
  const id = randomUUID().slice(0, 8);
  const created = await sqs<{ QueueUrl: string }>(endpoint, 'CreateQueue', {
    QueueName: `switchyard-health-${id}`,
  });
  const queueUrl = created.body.QueueUrl;
  try {
    const body = `switchyard health ${id}`;
    await sqs(endpoint, 'SendMessage', { QueueUrl: queueUrl, MessageBody: body });
    const got = await receiveOne(endpoint, queueUrl);
    if (got.Body !== body) throw new Error(`received "${got.Body}" instead of the sent message`);
    const fanOut = await snsFanOut(endpoint, queueUrl, id).then(
      () => true,
      () => false,
    );
    return { version: await identify(endpoint, created.server), sns: fanOut };
  } finally {
    await sqs(endpoint, 'DeleteQueue', { QueueUrl: queueUrl }).catch(() => {});
  }
}

async function snsFanOut(endpoint: string, queueUrl: string, id: string): Promise<void> {
  const attributes = await sqs<{ Attributes: { QueueArn: string } }>(endpoint, 'GetQueueAttributes', {
    QueueUrl: queueUrl,
    AttributeNames: ['QueueArn'],
  });
  const topicArn = xmlValue(
    await sns(endpoint, 'CreateTopic', { Name: `switchyard-health-${id}` }),
    'TopicArn',
  );
  if (!topicArn) throw new Error('CreateTopic returned no TopicArn');
  try {
    await sns(endpoint, 'Subscribe', {
      TopicArn: topicArn,
      Protocol: 'sqs',
      Endpoint: attributes.body.Attributes.QueueArn,
      'Attributes.entry.1.key': 'RawMessageDelivery',
      'Attributes.entry.1.value': 'true',
    });
    const message = `switchyard fan-out ${id}`;
    await sns(endpoint, 'Publish', { TopicArn: topicArn, Message: message });
    const got = await receiveOne(endpoint, queueUrl);
    if (got.Body !== message) throw new Error('the SNS message did not arrive raw on the queue');
  } finally {
    await sns(endpoint, 'DeleteTopic', { TopicArn: topicArn }).catch(() => {});
  }
}

/** Which emulator answers: SQS has no version call, so name the product where it shows. */
async function identify(endpoint: string, server: string): Promise<string> {
  if (/pekko-http|akka-http/i.test(server)) return `ElasticMQ (${server})`;
  const health = await fetch(new URL('/health', endpoint), { signal: AbortSignal.timeout(2_000) })
    .then((response) => (response.ok ? response.text() : ''))
    .catch(() => '');
  if (health.includes('"status":"ok"')) return 'fauxqs';
  return server || 'SQS endpoint';
}
