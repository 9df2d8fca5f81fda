import { randomUUID } from 'node:crypto';
import {
  CreateTopicCommand,
  DeleteTopicCommand,
  PublishCommand,
  SNSClient,
  SubscribeCommand,
} from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ListQueuesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { ProbeResult } from '../types.ts';
import { retryUntil } from '../wait.ts';

// Emulators accept any credential; a fixed one keeps the SDK from searching the machine for AWS's.
const config = (endpoint: string) => ({
  endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  maxAttempts: 1,
  requestHandler: { requestTimeout: 5_000, connectionTimeout: 2_000 },
});

async function receiveOne(client: SQSClient, queueUrl: string): Promise<string> {
  return retryUntil(
    async () => {
      const { Messages } = await client.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 1 }),
      );
      const message = Messages?.[0];
      if (!message) throw new Error('the sent message was not received');
      await client.send(
        new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
      );
      return message.Body ?? '';
    },
    { timeoutMs: 10_000, intervalMs: 0 },
  );
}

/**
 * A real round trip with the AWS SDK: list queues, create one, send, receive, delete. Then SNS
 * fan-out on the same endpoint (topic -> SQS subscription -> publish -> receive): `sns` says
 * whether it works.
 */
export async function probeSqs(endpoint: string): Promise<ProbeResult> {
  const client = new SQSClient(config(endpoint));
  let server = '';
  // The HTTP Server header tells emulators apart; SQS itself has no version call.
  client.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      const headers = (result.response as { headers?: Record<string, string> }).headers;
      server ||= headers?.server ?? '';
      return result;
    },
    { step: 'deserialize', name: 'switchyardServerHeader' },
  );
  try {
    await client.send(new ListQueuesCommand({ MaxResults: 1 }));
    const id = randomUUID().slice(0, 8);
    const { QueueUrl: queueUrl } = await client.send(
      new CreateQueueCommand({ QueueName: `switchyard-health-${id}` }),
    );
    if (!queueUrl) throw new Error('CreateQueue returned no QueueUrl');
    try {
      const body = `switchyard health ${id}`;
      await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
      const got = await receiveOne(client, queueUrl);
      if (got !== body) throw new Error(`received "${got}" instead of the sent message`);
      const fanOut = await snsFanOut(endpoint, client, queueUrl, id).then(
        () => true,
        () => false,
      );
      return { version: await identify(endpoint, server), sns: fanOut };
    } finally {
      await client.send(new DeleteQueueCommand({ QueueUrl: queueUrl })).catch(() => {});
    }
  } finally {
    client.destroy();
  }
}

async function snsFanOut(endpoint: string, client: SQSClient, queueUrl: string, id: string): Promise<void> {
  const { Attributes } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  const sns = new SNSClient(config(endpoint));
  try {
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: `switchyard-health-${id}` }));
    if (!TopicArn) throw new Error('CreateTopic returned no TopicArn');
    try {
      await sns.send(
        new SubscribeCommand({
          TopicArn,
          Protocol: 'sqs',
          Endpoint: Attributes?.QueueArn,
          Attributes: { RawMessageDelivery: 'true' },
        }),
      );
      const message = `switchyard fan-out ${id}`;
      await sns.send(new PublishCommand({ TopicArn, Message: message }));
      const got = await receiveOne(client, queueUrl);
      if (got !== message) throw new Error('the SNS message did not arrive raw on the queue');
    } finally {
      await sns.send(new DeleteTopicCommand({ TopicArn })).catch(() => {});
    }
  } finally {
    sns.destroy();
  }
}

/** Which emulator answers: name the product where it shows. */
async function identify(endpoint: string, server: string): Promise<string> {
  if (/pekko-http|akka-http/i.test(server)) return `ElasticMQ (${server})`;
  const health = await fetch(new URL('/health', endpoint), { signal: AbortSignal.timeout(2_000) })
    .then((response) => (response.ok ? response.text() : ''))
    .catch(() => '');
  if (health.includes('"status":"ok"')) return 'fauxqs';
  return server || 'SQS endpoint';
}
