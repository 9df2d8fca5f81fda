// sqs-consumer (bbc): a consumer only, so publishing goes through the raw SDK side. Its usual shape:
// handleMessage per message, batches of 10, the message deleted once the handler resolved.
import { GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { Consumer } from 'sqs-consumer';
import type { ConsumeSettings, Consuming, Item } from '../driver.ts';
import { client, VISIBILITY_SECONDS, WAIT_SECONDS } from '../sqs.ts';
import { RawBacked } from './raw-backed.ts';

export class SqsConsumerDriver extends RawBacked {
  readonly #sqs = client();

  constructor() {
    super('sqs');
  }

  publish(topic: string, item: Item): Promise<void> {
    return this.raw.publish(topic, item);
  }

  override publishBatch(topic: string, items: readonly Item[]): Promise<void> {
    return this.raw.publishBatch(topic, items);
  }

  async consume(
    topic: string,
    _group: string,
    _settings: ConsumeSettings,
    handler: (body: Uint8Array) => void | Promise<void>,
  ): Promise<Consuming> {
    const { QueueUrl } = await this.#sqs.send(new GetQueueUrlCommand({ QueueName: topic }));
    const consumer = Consumer.create({
      queueUrl: QueueUrl!,
      sqs: this.#sqs,
      batchSize: 10,
      waitTimeSeconds: WAIT_SECONDS,
      visibilityTimeout: VISIBILITY_SECONDS,
      messageAttributeNames: ['All'],
      handleMessage: async (message) => {
        await handler(Buffer.from(message.Body ?? '', 'base64'));
        return message;
      },
    });
    consumer.on('error', () => undefined); // a poll that failed is retried by the consumer itself
    const stopped = new Promise<void>((resolve) => consumer.once('stopped', () => resolve()));
    consumer.start();
    return {
      stop: async () => {
        consumer.stop({ abort: false });
        await stopped;
      },
    };
  }

  override async close(): Promise<void> {
    this.#sqs.destroy();
    await super.close();
  }
}
