// NestJS microservices over RabbitMQ: ClientRMQ.emit (confirm channel, persistent) into the same
// quorum queue the raw side declares; ServerRMQ with noAck: false, acking after the handler.
import { ClientRMQ, type RmqContext, ServerRMQ } from '@nestjs/microservices';
import type { ConsumeSettings, Consuming, Item } from '../driver.ts';
import { QUEUE_ARGUMENTS, queueOf, url } from '../rabbitmq.ts';
import { listening, PATTERN, sent } from './nest.ts';
import { fromJson, type JsonItem, RawBacked, toJson } from './raw-backed.ts';

const queueOptions = { durable: true, arguments: QUEUE_ARGUMENTS };

export class NestRmq extends RawBacked {
  readonly #clients = new Map<string, ClientRMQ>();

  constructor() {
    super('rabbitmq');
  }

  #client(topic: string): ClientRMQ {
    let client = this.#clients.get(topic);
    if (!client) {
      const queue = queueOf(topic, this.groups.get(topic)!);
      client = new ClientRMQ({ urls: [url], queue, queueOptions, persistent: true });
      this.#clients.set(topic, client);
    }
    return client;
  }

  async publish(topic: string, item: Item): Promise<void> {
    await sent(this.#client(topic).emit(PATTERN, toJson(item)));
  }

  async consume(
    topic: string,
    group: string,
    settings: ConsumeSettings,
    handler: (body: Uint8Array) => void | Promise<void>,
  ): Promise<Consuming> {
    const server = new ServerRMQ({
      urls: [url],
      queue: queueOf(topic, group),
      queueOptions,
      noAck: false,
      prefetchCount: settings.prefetch,
    });
    server.addHandler(
      PATTERN,
      async (data: JsonItem, context: RmqContext) => {
        await handler(fromJson(data));
        context.getChannelRef().ack(context.getMessage());
      },
      true,
    );
    return listening(server);
  }

  override async close(): Promise<void> {
    for (const client of this.#clients.values()) await client.close();
    await super.close();
  }
}
