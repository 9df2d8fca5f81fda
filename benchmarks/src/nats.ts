// NATS JetStream: raw nats.js v3 against @switchyard/nats: a file stream per topic, a durable pull
// consumer per group (explicit acks), publish awaiting the PubAck with a Nats-Msg-Id, double acks.
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import { connect, type NatsConnection, nanos, headers as natsHeaders } from '@nats-io/transport-node';
import '@switchyard/nats';
import type { Consuming, Driver, Item, Pair, Side } from './driver.ts';
import { binaryHeaders } from './envelope.ts';
import { Limiter } from './measure.ts';
import { SwitchyardDriver } from './switchyard-driver.ts';

const url = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const servers = new URL(url).host;
/** The names @switchyard/nats gives (bench topics and groups only use [a-z0-9-], which it keeps). */
const streamOf = (side: Side, topic: string) => (side === 'raw' ? `RAW_${topic}` : `SWITCHYARD_${topic}`);
const subjectOf = (topic: string) => `raw.${topic}`;

class RawNats implements Driver {
  #nc: NatsConnection | undefined;
  #js: JetStreamClient | undefined;
  #jsm: JetStreamManager | undefined;

  async open(): Promise<void> {
    this.#nc = await connect({ servers });
    this.#js = jetstream(this.#nc);
    this.#jsm = await jetstreamManager(this.#nc);
  }

  async prepare(topic: string, group: string): Promise<void> {
    const stream = streamOf('raw', topic);
    await this.#jsm!.streams.add({
      name: stream,
      subjects: [subjectOf(topic)],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      duplicate_window: nanos(120_000),
    });
    await this.#jsm!.consumers.add(stream, {
      durable_name: group,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.New,
      ack_wait: nanos(30_000),
      max_deliver: -1,
      max_ack_pending: 10_000,
    });
  }

  async publish(topic: string, item: Item): Promise<void> {
    // CloudEvents headers as @switchyard/nats writes them (see envelope.ts), the id as Nats-Msg-Id.
    const { id, headers } = binaryHeaders(item, 'ce-', 'content-type');
    const h = natsHeaders();
    for (const [name, value] of Object.entries(headers)) h.set(name, value);
    await this.#js!.publish(subjectOf(topic), item.body, { msgID: id, headers: h });
  }

  async publishBatch(topic: string, items: readonly Item[]): Promise<void> {
    // Pipelined on the one connection, so the stream stores them in order.
    await Promise.all(items.map((item) => this.publish(topic, item)));
  }

  async consume(
    topic: string,
    group: string,
    settings: { prefetch: number; concurrency: number },
    handler: (body: Uint8Array) => void | Promise<void>,
  ): Promise<Consuming> {
    const consumer = await this.#js!.consumers.get(streamOf('raw', topic), group);
    const messages = await consumer.consume({ max_messages: settings.prefetch });
    const limiter = new Limiter(settings.concurrency);
    const loop = (async () => {
      for await (const message of messages) {
        await limiter.run(async () => {
          await handler(message.data);
          // After stop the connection may be gone: the server redelivers after ack_wait.
          await message.ackAck().catch(() => undefined);
        });
      }
    })();
    return {
      stop: async () => {
        await messages.close();
        await loop;
      },
    };
  }

  async close(): Promise<void> {
    await this.#nc?.drain();
  }
}

export const pair: Pair = {
  broker: 'nats',
  address: servers,
  client: '@nats-io/transport-node + @nats-io/jetstream',
  create: (side: Side) => (side === 'raw' ? new RawNats() : new SwitchyardDriver({ url })),
  cleanup: async (side, topics) => {
    const nc = await connect({ servers });
    try {
      const jsm = await jetstreamManager(nc);
      for (const topic of topics) await jsm.streams.delete(streamOf(side, topic)).catch(() => undefined);
    } finally {
      await nc.close();
    }
  },
};
