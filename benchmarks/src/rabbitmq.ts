// RabbitMQ: raw amqplib against @switchyard/rabbitmq: topic exchange → quorum queue (single active
// consumer, as Switchyard declares it), persistent messages on a confirm channel, manual acks.
import '@switchyard/rabbitmq';
import amqp from 'amqplib';
import type { Consuming, Driver, Item, Pair, Side } from './driver.ts';
import { binaryHeaders } from './envelope.ts';
import { Limiter } from './measure.ts';
import { SwitchyardDriver } from './switchyard-driver.ts';

export const url = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672/%2F';
export const queueOf = (topic: string, group: string) => `${topic}:${group}`;
export const QUEUE_ARGUMENTS = { 'x-queue-type': 'quorum', 'x-single-active-consumer': true };

class RawRabbitMq implements Driver {
  #connection: amqp.ChannelModel | undefined;
  #channel: amqp.ConfirmChannel | undefined;

  async open(): Promise<void> {
    this.#connection = await amqp.connect(url);
    this.#channel = await this.#connection.createConfirmChannel();
  }

  async prepare(topic: string, group: string): Promise<void> {
    const channel = this.#channel!;
    await channel.assertExchange(topic, 'topic', { durable: true });
    await channel.assertQueue(queueOf(topic, group), { durable: true, arguments: QUEUE_ARGUMENTS });
    await channel.bindQueue(queueOf(topic, group), topic, '#');
  }

  #send(topic: string, item: Item): Promise<void> {
    return new Promise((resolve, reject) => {
      // CloudEvents AMQP binding, as @switchyard/rabbitmq writes it (see envelope.ts).
      const { id, headers } = binaryHeaders(item, 'cloudEvents:', undefined);
      this.#channel!.publish(
        topic,
        item.key,
        Buffer.from(item.body.buffer, item.body.byteOffset, item.body.byteLength),
        { persistent: true, messageId: id, contentType: 'application/octet-stream', headers },
        (error) => (error ? reject(error) : resolve()),
      );
    });
  }

  publish(topic: string, item: Item): Promise<void> {
    return this.#send(topic, item);
  }

  async publishBatch(topic: string, items: readonly Item[]): Promise<void> {
    await Promise.all(items.map((item) => this.#send(topic, item)));
  }

  async consume(
    topic: string,
    group: string,
    settings: { prefetch: number; concurrency: number },
    handler: (body: Uint8Array) => void | Promise<void>,
  ): Promise<Consuming> {
    const channel = await this.#connection!.createChannel();
    await channel.prefetch(settings.prefetch);
    const limiter = new Limiter(settings.concurrency);
    let closed = false;
    const { consumerTag } = await channel.consume(
      queueOf(topic, group),
      (message) => {
        if (!message) return;
        void limiter.run(async () => {
          await handler(message.content);
          // After stop the channel is gone and the broker has taken the message back.
          if (!closed) channel.ack(message);
        });
      },
      { noAck: false },
    );
    return {
      stop: async () => {
        await channel.cancel(consumerTag);
        closed = true;
        await channel.close().catch(() => undefined);
      },
    };
  }

  async close(): Promise<void> {
    await this.#connection?.close();
  }
}

export const pair: Pair = {
  broker: 'rabbitmq',
  address: new URL(url).host,
  client: 'amqplib',
  create: (side: Side) => (side === 'raw' ? new RawRabbitMq() : new SwitchyardDriver({ url })),
  cleanup: async (_side, topics, group) => {
    const connection = await amqp.connect(url);
    try {
      for (const topic of topics) {
        const channel = await connection.createChannel();
        channel.on('error', () => undefined);
        await channel.deleteQueue(queueOf(topic, group)).catch(() => undefined);
        await channel.deleteExchange(topic).catch(() => undefined);
        await channel.close().catch(() => undefined);
      }
    } finally {
      await connection.close();
    }
  },
};
