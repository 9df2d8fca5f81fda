// NestJS microservices over Kafka: ClientKafka.emit (kafkajs producer, acks -1) and ServerKafka
// (kafkajs eachMessage, auto-commit), on the topic the raw side creates with the same partitions.
import { ClientKafka, ServerKafka } from '@nestjs/microservices';
import { logLevel } from 'kafkajs';
import type { ConsumeSettings, Consuming, Item } from '../driver.ts';
import { listening, sent } from './nest.ts';
import { fromJson, type JsonItem, RawBacked, toJson } from './raw-backed.ts';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const client = { clientId: 'bench-nest', brokers, logLevel: logLevel.NOTHING };

export class NestKafka extends RawBacked {
  #producer: ClientKafka | undefined;

  constructor() {
    super('kafka');
  }

  override async open(): Promise<void> {
    await super.open();
    this.#producer = new ClientKafka({
      client,
      producer: { allowAutoTopicCreation: false },
      producerOnlyMode: true,
    });
    await this.#producer.connect();
  }

  async publish(topic: string, item: Item): Promise<void> {
    await sent(this.#producer!.emit(topic, { key: item.key, value: toJson(item) }));
  }

  async consume(
    topic: string,
    group: string,
    _settings: ConsumeSettings,
    handler: (body: Uint8Array) => void | Promise<void>,
  ): Promise<Consuming> {
    const server = new ServerKafka({
      client: { ...client, clientId: 'bench-nest-server' },
      consumer: { groupId: group, sessionTimeout: 10_000, heartbeatInterval: 1_000, maxWaitTimeInMs: 250 },
      subscribe: { fromBeginning: true },
      // Nest appends '-server' to the group id unless told otherwise; the cleanup deletes `group`.
      postfixId: '',
      // One partition at a time is Nest's default; a tuned service reads every partition at once.
      run: { partitionsConsumedConcurrently: 3 },
    });
    server.addHandler(topic, async (data: JsonItem) => handler(fromJson(data)), true);
    return listening(server);
  }

  override async close(): Promise<void> {
    await this.#producer?.close();
    await super.close();
  }
}
