// @message-queue-toolkit/sqs (Lokalise): its publisher and consumer classes as its README shows them,
// a zod schema per message, located on the queue the raw side creates; the consumer deletes a message
// once its handler returned success.
import { GetQueueUrlCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { MessageHandlerConfigBuilder } from '@message-queue-toolkit/core';
import { AbstractSqsConsumer, AbstractSqsPublisher } from '@message-queue-toolkit/sqs';
import { z } from 'zod';
import type { ConsumeSettings, Consuming, Item } from '../driver.ts';
import { client, VISIBILITY_SECONDS } from '../sqs.ts';
import { fromJson, RawBacked, toJson } from './raw-backed.ts';

const BenchMessage = z.object({
  id: z.string(),
  messageType: z.literal('bench'),
  k: z.string(),
  b: z.string(),
});
type BenchMessage = z.infer<typeof BenchMessage>;
type Handler = (body: Uint8Array) => void | Promise<void>;

const quiet = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  trace() {},
  fatal() {},
  child: () => quiet,
  level: 'silent',
};
const dependencies = (sqsClient: SQSClient) => ({
  sqsClient,
  logger: quiet as never,
  errorReporter: { report: () => undefined },
});

class Publisher extends AbstractSqsPublisher<BenchMessage> {
  constructor(sqsClient: SQSClient, queueUrl: string) {
    super(dependencies(sqsClient), {
      messageSchemas: [BenchMessage],
      messageTypeResolver: { messageTypePath: 'messageType' },
      locatorConfig: { queueUrl },
    });
  }
}

class Consumer extends AbstractSqsConsumer<BenchMessage, { handler: Handler }> {
  constructor(sqsClient: SQSClient, queueUrl: string, handler: Handler, concurrency: number) {
    super(
      {
        ...dependencies(sqsClient),
        consumerErrorResolver: { processError: () => ({}) as never } as never,
        transactionObservabilityManager: {
          start() {},
          stop() {},
          startWithGroup() {},
          addCustomAttributes() {},
        },
      } as never,
      {
        messageTypeResolver: { messageTypePath: 'messageType' },
        handlers: new MessageHandlerConfigBuilder<BenchMessage, { handler: Handler }>()
          .addConfig(BenchMessage, async (message, context) => {
            await context.handler(fromJson(message));
            return { result: 'success' as const };
          })
          .build(),
        locatorConfig: { queueUrl },
        concurrentConsumersAmount: Math.max(1, Math.ceil(concurrency / 10)),
        consumerOverrides: { batchSize: 10, visibilityTimeout: VISIBILITY_SECONDS } as never,
      } as never,
      { handler },
    );
  }
}

export class MqToolkitDriver extends RawBacked {
  readonly #sqs = client();
  readonly #publishers = new Map<string, Promise<Publisher>>();
  #sent = 0;

  constructor() {
    super('sqs');
  }

  async #url(topic: string): Promise<string> {
    return (await this.#sqs.send(new GetQueueUrlCommand({ QueueName: topic }))).QueueUrl!;
  }

  #publisher(topic: string): Promise<Publisher> {
    let publisher = this.#publishers.get(topic);
    if (!publisher) {
      publisher = this.#url(topic).then(async (url) => {
        const p = new Publisher(this.#sqs, url);
        await p.init();
        return p;
      });
      this.#publishers.set(topic, publisher);
    }
    return publisher;
  }

  async publish(topic: string, item: Item): Promise<void> {
    const publisher = await this.#publisher(topic);
    await publisher.publish({ id: String(this.#sent++), messageType: 'bench', ...toJson(item) });
  }

  async consume(
    topic: string,
    _group: string,
    settings: ConsumeSettings,
    handler: Handler,
  ): Promise<Consuming> {
    const consumer = new Consumer(this.#sqs, await this.#url(topic), handler, settings.concurrency);
    await consumer.start();
    return { stop: () => consumer.close() };
  }

  override async close(): Promise<void> {
    for (const publisher of this.#publishers.values()) await (await publisher).close();
    this.#sqs.destroy();
    await super.close();
  }
}
