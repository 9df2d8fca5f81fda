// NestJS microservices over NATS: core NATS (Nest has no JetStream transport), so no persistence and
// no acks — a weaker guarantee, marked in the table. A queue group, as a scaled service would use.
import { ClientNats, ServerNats } from '@nestjs/microservices';
import type { ConsumeSettings, Consuming, Item } from '../driver.ts';
import { listening, sent } from './nest.ts';
import { fromJson, type JsonItem, RawBacked, toJson } from './raw-backed.ts';

const servers = new URL(process.env.NATS_URL ?? 'nats://127.0.0.1:4222').host;
const subjectOf = (topic: string) => `nest.${topic}`;

export class NestNats extends RawBacked {
  #client: ClientNats | undefined;

  constructor() {
    super('nats');
  }

  // The raw side's stream would capture nothing here (Nest publishes on its own subject); only connect.
  override async prepare(topic: string, group: string): Promise<void> {
    this.groups.set(topic, group);
  }

  override async open(): Promise<void> {
    this.#client = new ClientNats({ servers: [servers] });
    await this.#client.connect();
  }

  async publish(topic: string, item: Item): Promise<void> {
    await sent(this.#client!.emit(subjectOf(topic), toJson(item)));
  }

  async consume(
    topic: string,
    group: string,
    _settings: ConsumeSettings,
    handler: (body: Uint8Array) => void | Promise<void>,
  ): Promise<Consuming> {
    const server = new ServerNats({ servers: [servers], queue: group });
    server.addHandler(subjectOf(topic), async (data: JsonItem) => handler(fromJson(data)), true);
    return listening(server);
  }

  override async close(): Promise<void> {
    await this.#client?.close();
  }
}
