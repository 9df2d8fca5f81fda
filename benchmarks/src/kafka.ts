// Kafka: raw kafkajs against @switchyard/kafka (on kafkajs, or @platformatic/kafka with
// --kafka-client platformatic; idempotent producer, acks -1 on both sides).
import '@switchyard/kafka';
import { type Admin, type Consumer, Kafka, logLevel, type Producer } from 'kafkajs';
import type { Consuming, Driver, Item, Pair, Side } from './driver.ts';
import { binaryHeaders } from './envelope.ts';
import { Limiter } from './measure.ts';
import { SwitchyardDriver } from './switchyard-driver.ts';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
/** What @switchyard/kafka creates a topic with, so both sides write to as many partitions. */
const PARTITIONS = 3;

function kafka(clientId: string): Kafka {
  return new Kafka({ clientId, brokers, logLevel: logLevel.NOTHING });
}

async function withAdmin<T>(run: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka('bench-admin').admin();
  await admin.connect();
  try {
    return await run(admin);
  } finally {
    await admin.disconnect();
  }
}

class RawKafka implements Driver {
  readonly #kafka = kafka('bench-raw');
  #producer: Producer | undefined;
  #admin: Admin | undefined;

  async open(): Promise<void> {
    this.#producer = this.#kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    });
    await this.#producer.connect();
    this.#admin = this.#kafka.admin();
    await this.#admin.connect();
  }

  async prepare(topic: string): Promise<void> {
    // A fresh topic: a group that starts from the beginning gets everything published from now on.
    await this.#admin!.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], waitForLeaders: true });
  }

  async publish(topic: string, item: Item): Promise<void> {
    await this.#producer!.send({ topic, acks: -1, messages: [record(item)] });
  }

  async publishBatch(topic: string, items: readonly Item[]): Promise<void> {
    await this.#producer!.send({ topic, acks: -1, messages: items.map(record) });
  }

  async consume(
    topic: string,
    group: string,
    settings: { prefetch: number; concurrency: number },
    handler: (body: Uint8Array) => void | Promise<void>,
  ): Promise<Consuming> {
    const consumer: Consumer = this.#kafka.consumer({
      groupId: group,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      maxWaitTimeInMs: 250,
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const limiter = new Limiter(settings.concurrency);
    // eachBatch: handlers of a fetched batch run concurrently (up to `concurrency`, a key at a time
    // is not kept: the raw baseline does the least); an offset is committed once its handler and
    // every one before it in the partition finished, i.e. after the handler (at-least-once).
    await consumer.run({
      autoCommit: true,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: PARTITIONS,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning }) => {
        const running: Promise<void>[] = [];
        for (const message of batch.messages) {
          if (!isRunning()) break;
          await limiter.acquire();
          running.push(
            (async () => {
              try {
                await handler(message.value ?? new Uint8Array(0));
              } finally {
                limiter.release();
              }
            })(),
          );
        }
        await Promise.all(running);
        for (const message of batch.messages) resolveOffset(message.offset);
        await heartbeat();
      },
    });
    return { stop: () => consumer.disconnect() };
  }

  async close(): Promise<void> {
    await this.#producer?.disconnect();
    await this.#admin?.disconnect();
  }
}

function record(item: Item) {
  return {
    key: item.key,
    value: Buffer.from(item.body.buffer, item.body.byteOffset, item.body.byteLength),
    // CloudEvents Kafka binding, as @switchyard/kafka writes it (see envelope.ts).
    headers: binaryHeaders(item, 'ce_', 'content-type').headers,
  };
}

const switchyardClient = process.env.BENCH_KAFKA_CLIENT === 'platformatic' ? 'platformatic' : 'kafkajs';

export const pair: Pair = {
  broker: 'kafka',
  address: brokers.join(','),
  client: 'kafkajs',
  create: (side: Side) =>
    side === 'raw'
      ? new RawKafka()
      : new SwitchyardDriver({
          url: `kafka://${brokers.join(',')}`,
          // `pnpm bench --kafka-client platformatic` (main.ts): the driver under Switchyard's side.
          kafka: { logLevel: 'nothing', client: switchyardClient },
        }),
  cleanup: (_side, topics, group) =>
    withAdmin(async (admin) => {
      await admin.deleteGroups([group]).catch(() => undefined);
      const existing = new Set(await admin.listTopics());
      await admin.deleteTopics({ topics: topics.filter((t) => existing.has(t)) }).catch(() => undefined);
    }),
};
