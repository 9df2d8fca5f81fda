// SQS: raw @aws-sdk/client-sqs against @switchyard/sqs, one standard queue per topic on both sides
// (Switchyard with fanOut 'none', so it sends SendMessageBatch to that queue as raw does, not SNS).
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  GetQueueUrlCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import '@switchyard/sqs';
import type { Consuming, Driver, Item, Pair, Side } from './driver.ts';
import { attributes, rawEnvelope } from './envelope.ts';
import { Limiter } from './measure.ts';
import { SwitchyardDriver } from './switchyard-driver.ts';

const endpoint = process.env.SQS_ENDPOINT ?? 'http://127.0.0.1:4566';
const region = 'us-east-1';
/** What @switchyard/sqs uses against an endpoint: 1 s long polls, 30 s visibility. */
export const WAIT_SECONDS = 1;
export const VISIBILITY_SECONDS = 30;

export function client(): SQSClient {
  return new SQSClient({
    endpoint,
    region,
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
}

/** @switchyard/sqs's envelope: every attribute in one JSON attribute `ce`, base64 data (see envelope.ts). */
function messageAttributes(item: Item): Record<string, { DataType: string; StringValue: string }> {
  const all = attributes(item);
  if (rawEnvelope === 'bare') return { id: { DataType: 'String', StringValue: all.id! } };
  return { ce: { DataType: 'String.base64', StringValue: JSON.stringify(all) } };
}

const encode = (body: Uint8Array) =>
  Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('base64');

class RawSqs implements Driver {
  readonly #sqs = client();
  readonly #urls = new Map<string, string>();

  async open(): Promise<void> {}

  async prepare(topic: string): Promise<void> {
    const { QueueUrl } = await this.#sqs.send(new CreateQueueCommand({ QueueName: topic }));
    this.#urls.set(topic, QueueUrl!);
  }

  async publish(topic: string, item: Item): Promise<void> {
    await this.#sqs.send(
      new SendMessageCommand({
        QueueUrl: this.#urls.get(topic),
        MessageBody: encode(item.body),
        MessageAttributes: messageAttributes(item),
      }),
    );
  }

  async publishBatch(topic: string, items: readonly Item[]): Promise<void> {
    // Ten per request (the SQS limit), one request after the other so messages are stored in order.
    for (let i = 0; i < items.length; i += 10) {
      const reply = await this.#sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: this.#urls.get(topic),
          Entries: items.slice(i, i + 10).map((item, n) => ({
            Id: String(n),
            MessageBody: encode(item.body),
            MessageAttributes: messageAttributes(item),
          })),
        }),
      );
      if (reply.Failed?.length) throw new Error(`SendMessageBatch: ${reply.Failed.length} failed`);
    }
  }

  async consume(
    topic: string,
    _group: string,
    settings: { prefetch: number; concurrency: number },
    handler: (body: Uint8Array) => void | Promise<void>,
  ): Promise<Consuming> {
    const QueueUrl = this.#urls.get(topic)!;
    const limiter = new Limiter(settings.concurrency);
    let active = true;
    let unsettled = 0;
    let wake: (() => void) | undefined;
    const settled = () => {
      unsettled -= 1;
      wake?.();
    };
    const handleReply = async (messages: readonly Message[]) => {
      const done: string[] = [];
      await Promise.all(
        messages.map(async (message) => {
          await limiter.acquire();
          try {
            await handler(Buffer.from(message.Body ?? '', 'base64'));
            done.push(message.ReceiptHandle!);
          } finally {
            limiter.release();
          }
        }),
      );
      // Acked after the handlers: one DeleteMessageBatch for what a receive brought.
      if (done.length > 0) {
        await this.#sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl,
            Entries: done.map((ReceiptHandle, n) => ({ Id: String(n), ReceiptHandle })),
          }),
        );
      }
      for (let i = 0; i < messages.length; i++) settled();
    };
    const loop = (async () => {
      while (active) {
        const room = settings.prefetch - unsettled;
        if (room <= 0) {
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          wake = undefined;
          continue;
        }
        const reply = await this.#sqs.send(
          new ReceiveMessageCommand({
            QueueUrl,
            MaxNumberOfMessages: Math.min(10, room),
            WaitTimeSeconds: WAIT_SECONDS,
            VisibilityTimeout: VISIBILITY_SECONDS,
            MessageAttributeNames: ['All'],
          }),
        );
        const messages = reply.Messages ?? [];
        unsettled += messages.length;
        void handleReply(messages);
      }
    })();
    return {
      stop: async () => {
        active = false;
        wake?.();
        await loop;
      },
    };
  }

  async close(): Promise<void> {
    this.#sqs.destroy();
  }
}

export const pair: Pair = {
  broker: 'sqs',
  address: endpoint,
  client: '@aws-sdk/client-sqs',
  create: (side: Side) =>
    side === 'raw'
      ? new RawSqs()
      : new SwitchyardDriver({
          url: `sqs://?endpoint=${encodeURIComponent(endpoint)}&region=${region}&fanout=none`,
        }),
  cleanup: async (_side, topics) => {
    const sqs = client();
    try {
      for (const topic of topics) {
        const url = await sqs
          .send(new GetQueueUrlCommand({ QueueName: topic }))
          .then((r) => r.QueueUrl)
          .catch(() => undefined);
        if (url) await sqs.send(new DeleteQueueCommand({ QueueUrl: url })).catch(() => undefined);
      }
    } finally {
      sqs.destroy();
    }
  },
};
