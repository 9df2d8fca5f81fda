// Kafka: the raw client (kafkajs, or @platformatic/kafka with --raw-client platformatic) against
// @switchyard/kafka (on kafkajs, or @platformatic/kafka with --kafka-client platformatic);
// idempotent producer, acks -1 on both sides.
import {
  Consumer as PlatformaticConsumer,
  type Message as PlatformaticMessage,
  Producer as PlatformaticProducer,
  stringDeserializer,
  stringSerializer,
} from '@platformatic/kafka';
import '@switchyard/kafka';
import { type Admin, type Consumer, Kafka, logLevel, type Producer } from 'kafkajs';
import { poolEncoderBuffers } from '../../packages/kafka/src/encoder-buffers.ts';
import { quietIdleRequestQueues } from '../../packages/kafka/src/request-queue-fix.ts';
import type { Consuming, Driver, Item, Pair, Side } from './driver.ts';
import { binaryHeaders } from './envelope.ts';
import { Limiter } from './measure.ts';
import { SwitchyardDriver } from './switchyard-driver.ts';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
/** What @switchyard/kafka creates a topic with, so both sides write to as many partitions. */
const PARTITIONS = 3;

function kafka(clientId: string): Kafka {
  // The fix @switchyard/kafka puts on kafkajs's idle request-queue timer, on the raw side too: the
  // ratio is the cost of Switchyard's code, not of a kafkajs bug one side works around.
  quietIdleRequestQueues();
  // @switchyard/kafka also encodes into pooled buffers (encoder-buffers.ts): a speed-up, not a bug
  // fix, so the raw side is kafkajs as shipped unless BENCH_RAW_POOLED_ENCODER=1 gives it the same,
  // to see what Switchyard's own code costs apart from it.
  if (process.env.BENCH_RAW_POOLED_ENCODER === '1') poolEncoderBuffers();
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

/**
 * @platformatic/kafka used directly, as its README shows: one idempotent producer (acks -1), and a
 * consumer's MessagesStream read with backpressure, handlers up to `concurrency` at once. An offset
 * is committed (`message.commit()`, which the client merges into one OffsetCommit in flight at a
 * time) once its handler and every one before it in the partition finished: at-least-once, as the
 * kafkajs side. Fetch sizes as @switchyard/kafka's platformatic driver sets them (1 MiB a
 * partition, 10 MiB a fetch), so both sides hold as much per fetch.
 */
class RawPlatformatic implements Driver {
  #producer: PlatformaticProducer<string, Buffer, string, string> | undefined;
  #admin: Admin | undefined;

  async open(): Promise<void> {
    this.#producer = new PlatformaticProducer<string, Buffer, string, string>({
      clientId: 'bench-raw',
      bootstrapBrokers: brokers,
      idempotent: true,
      acks: -1,
      autocreateTopics: false,
      serializers: { key: stringSerializer, headerKey: stringSerializer, headerValue: stringSerializer },
    });
    await this.#producer.initIdempotentProducer({});
    // Topics are made (untimed) with kafkajs's admin, as on the kafkajs side.
    this.#admin = kafka('bench-raw').admin();
    await this.#admin.connect();
  }

  async prepare(topic: string): Promise<void> {
    await this.#admin!.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], waitForLeaders: true });
  }

  async publish(topic: string, item: Item): Promise<void> {
    await this.#producer!.send({ messages: [platformaticRecord(topic, item)] });
  }

  async publishBatch(topic: string, items: readonly Item[]): Promise<void> {
    await this.#producer!.send({ messages: items.map((item) => platformaticRecord(topic, item)) });
  }

  async consume(
    topic: string,
    group: string,
    settings: { prefetch: number; concurrency: number },
    handler: (body: Uint8Array) => void | Promise<void>,
  ): Promise<Consuming> {
    type Fetched = PlatformaticMessage<Buffer, Buffer, string, Buffer>;
    const consumer = new PlatformaticConsumer<Buffer, Buffer, string, Buffer>({
      clientId: 'bench-raw',
      bootstrapBrokers: brokers,
      groupId: group,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      maxWaitTime: 250,
      maxBytesPerPartition: 1_048_576,
      maxBytes: 10_485_760,
      autocommit: false,
      deserializers: { headerKey: stringDeserializer as (data?: Buffer) => string },
    });
    const stream = await consumer.consume({
      topics: [topic],
      mode: 'committed',
      fallbackMode: 'earliest',
      autocommit: false,
    });
    // Per partition: the messages taken, oldest first (the head's handler has not finished), and
    // one commit at a time: what finishes meanwhile is committed next, in one call.
    const partitions = new Map<
      number,
      { queue: Array<{ message: Fetched; done: boolean }>; committing: boolean; next: Fetched | undefined }
    >();
    const commit = (state: { committing: boolean; next: Fetched | undefined }) => {
      const message = state.next;
      if (state.committing || !message) return;
      state.next = undefined;
      state.committing = true;
      // A failed commit (a rebalance) leaves the offset to the next one or to a redelivery.
      void Promise.resolve(message.commit())
        .catch(() => undefined)
        .then(() => {
          state.committing = false;
          commit(state);
        });
    };
    const finished = (partition: number) => {
      const state = partitions.get(partition)!;
      while (state.queue.length > 0 && state.queue[0]!.done) state.next = state.queue.shift()!.message;
      commit(state);
    };
    // Flowing mode, as the client's README reads a stream: a message past `concurrency` handlers
    // waits here and pauses the stream until a handler finishes.
    const waiting: Fetched[] = [];
    let active = 0;
    const start = (message: Fetched) => {
      active += 1;
      const entry = { message, done: false };
      let state = partitions.get(message.partition);
      if (!state) {
        state = { queue: [], committing: false, next: undefined };
        partitions.set(message.partition, state);
      }
      state.queue.push(entry);
      void (async () => {
        try {
          await handler(message.value ?? new Uint8Array(0));
        } finally {
          active -= 1;
          entry.done = true;
          finished(message.partition);
          const next = waiting.shift();
          if (next) start(next);
          else if (stream.isPaused()) stream.resume();
        }
      })();
    };
    stream.on('data', (message: Fetched) => {
      if (active < settings.concurrency) start(message);
      else {
        waiting.push(message);
        stream.pause();
      }
    });
    return {
      stop: async () => {
        await stream.close().catch(() => undefined);
        await consumer.close(true);
      },
    };
  }

  async close(): Promise<void> {
    await this.#producer?.close();
    await this.#admin?.disconnect();
  }
}

function platformaticRecord(topic: string, item: Item) {
  return {
    topic,
    key: item.key,
    value: Buffer.from(item.body.buffer, item.body.byteOffset, item.body.byteLength),
    headers: binaryHeaders(item, 'ce_', 'content-type').headers,
  };
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
// `pnpm bench --raw-client platformatic` (main.ts): the client the raw side runs on.
const rawClient = process.env.BENCH_KAFKA_RAW_CLIENT === 'platformatic' ? 'platformatic' : 'kafkajs';

export const pair: Pair = {
  broker: 'kafka',
  address: brokers.join(','),
  client: rawClient === 'platformatic' ? '@platformatic/kafka' : 'kafkajs',
  create: (side: Side) =>
    side === 'raw'
      ? rawClient === 'platformatic'
        ? new RawPlatformatic()
        : new RawKafka()
      : new SwitchyardDriver({
          url: `kafka://${brokers.join(',')}`,
          // `pnpm bench --kafka-client platformatic` (main.ts): the driver under Switchyard's side.
          kafka: { logLevel: 'nothing', client: switchyardClient },
        }),
  cleanup: (side, topics, group) =>
    withAdmin(async (admin) => {
      // Switchyard's consumer group on Kafka is `<topic>.<group>` (packages/kafka/src/names.ts).
      const groups = side === 'raw' ? [group] : topics.map((topic) => `${topic}.${group}`);
      await admin.deleteGroups(groups).catch(() => undefined);
      const existing = new Set(await admin.listTopics());
      await admin.deleteTopics({ topics: topics.filter((t) => existing.has(t)) }).catch(() => undefined);
    }),
};
