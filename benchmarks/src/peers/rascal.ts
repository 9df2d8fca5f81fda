// rascal over RabbitMQ: a broker per topic declaring the raw side's exchange, quorum queue and
// binding; confirmed persistent publications; a subscription acking after the handler.
import rascal, { type BrokerAsPromised } from 'rascal';
import type { ConsumeSettings, Consuming, Item } from '../driver.ts';
import { QUEUE_ARGUMENTS, queueOf, url } from '../rabbitmq.ts';
import { RawBacked } from './raw-backed.ts';

// rascal is CommonJS: its named exports are reached through the default one.
const { BrokerAsPromised: Broker, withDefaultConfig } = rascal;

/** What the scenarios consume with (ScenarioSettings.consume.prefetch); a subscription's is fixed at creation. */
const PREFETCH = 256;

export class RascalDriver extends RawBacked {
  readonly #brokers = new Map<string, BrokerAsPromised>();

  constructor() {
    super('rabbitmq');
  }

  override async prepare(topic: string, group: string): Promise<void> {
    await super.prepare(topic, group);
    if (this.#brokers.has(topic)) return;
    const queue = queueOf(topic, group);
    const broker = await Broker.create(
      withDefaultConfig({
        vhosts: {
          '/': {
            connection: { url },
            exchanges: { [topic]: { type: 'topic', options: { durable: true } } },
            queues: { [queue]: { options: { durable: true, arguments: QUEUE_ARGUMENTS } } },
            bindings: { b: { source: topic, destination: queue, destinationType: 'queue', bindingKey: '#' } },
            publications: { p: { exchange: topic, confirm: true, options: { persistent: true } } },
            subscriptions: { s: { queue, prefetch: PREFETCH } },
          },
        },
      }),
    );
    broker.on('error', () => undefined);
    this.#brokers.set(topic, broker);
  }

  async publish(topic: string, item: Item): Promise<void> {
    const publication = await this.#brokers
      .get(topic)!
      .publish('p', Buffer.from(item.body.buffer, item.body.byteOffset, item.body.byteLength), {
        routingKey: item.key,
        options: { contentType: 'application/octet-stream' },
      });
    await new Promise<void>((resolve, reject) => {
      publication.on('success', () => resolve());
      publication.on('error', reject);
      publication.on('return', () => reject(new Error('returned: no queue bound')));
    });
  }

  async consume(
    topic: string,
    _group: string,
    _settings: ConsumeSettings,
    handler: (body: Uint8Array) => void | Promise<void>,
  ): Promise<Consuming> {
    const subscription = await this.#brokers.get(topic)!.subscribe('s');
    subscription.on('error', () => undefined);
    subscription.on('message', (_message, content: Buffer, ackOrNack) => {
      Promise.resolve(handler(content)).then(
        () => ackOrNack(),
        (error: Error) => ackOrNack(error),
      );
    });
    return { stop: () => subscription.cancel() };
  }

  override async close(): Promise<void> {
    for (const broker of this.#brokers.values()) await broker.shutdown();
    await super.close();
  }
}
