import { randomUUID } from 'node:crypto';
import kafkajs from 'kafkajs';
import type { ProbeResult } from '../types.ts';
import { retryUntil } from '../wait.ts';

// kafkajs is CommonJS: its named exports are not visible to Node's ESM loader.
const { Kafka, logLevel, ConfigResourceTypes } = kafkajs;

export function parseBootstrap(brokers: string): Array<{ host: string; port: number }> {
  return brokers
    .split(',')
    .map((entry) => entry.trim().replace(/^[a-z]+:\/\//i, ''))
    .filter(Boolean)
    .map((entry) => {
      const at = entry.lastIndexOf(':');
      return { host: entry.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(entry.slice(at + 1)) };
    });
}

/**
 * A real round trip with kafkajs: create a throwaway topic, produce one record with acks=all,
 * read it back through a consumer group (which also waits for the group coordinator, so the first
 * consumer-group test does not pay for __consumer_offsets), delete the topic and the group.
 */
export async function probeKafka(brokers: string): Promise<ProbeResult> {
  const bootstrap = parseBootstrap(brokers);
  if (!bootstrap[0] || !Number.isInteger(bootstrap[0].port))
    throw new Error(`cannot parse Kafka bootstrap "${brokers}"`);
  const kafka = new Kafka({
    clientId: 'switchyard-provision',
    brokers: bootstrap.map(({ host, port }) => `${host}:${port}`),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3_000,
    // The caller retries; one quick failure per attempt says more than kafkajs's own backoff.
    retry: { retries: 1, initialRetryTime: 100 },
  });
  const admin = kafka.admin();
  await admin.connect();
  const id = randomUUID().slice(0, 8);
  const topic = `switchyard-health-${id}`;
  try {
    const cluster = await admin.describeCluster();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    try {
      await roundTrip(kafka, topic, `switchyard-health-${id}`);
    } finally {
      await admin.deleteTopics({ topics: [topic] }).catch(() => {});
      await admin.deleteGroups([`switchyard-health-${id}`]).catch(() => {});
    }
    return { version: await protocolVersion(admin, cluster.controller ?? cluster.brokers[0]?.nodeId) };
  } finally {
    await admin.disconnect();
  }
}

async function roundTrip(kafka: InstanceType<typeof Kafka>, topic: string, groupId: string): Promise<void> {
  const value = `switchyard health ${randomUUID()}`;
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    await retryUntil(() => producer.send({ topic, acks: -1, messages: [{ value }] }), {
      timeoutMs: 30_000,
      intervalMs: 100,
    });
  } finally {
    await producer.disconnect();
  }
  const consumer = kafka.consumer({ groupId, retry: { retries: 5 } });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    const got = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('the produced record was not consumed in 60 s')),
        60_000,
      );
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        clearTimeout(timer);
        reject(payload.error);
      });
      consumer
        .run({
          eachMessage: async ({ message }) => {
            clearTimeout(timer);
            resolve(message.value?.toString() ?? '');
          },
        })
        .catch(reject);
    });
    if (got !== value) throw new Error(`consumed "${got}" instead of "${value}"`);
  } finally {
    await consumer.disconnect();
  }
}

/**
 * The Kafka protocol carries no release string; the broker's `inter.broker.protocol.version`
 * (e.g. 3.9-IV0) is the closest thing through the client. Kafka 4 dropped that config.
 */
async function protocolVersion(admin: ReturnType<InstanceType<typeof Kafka>['admin']>, node?: number) {
  if (node === undefined) return 'Apache Kafka';
  const described = await admin
    .describeConfigs({
      resources: [
        {
          type: ConfigResourceTypes.BROKER,
          name: String(node),
          configNames: ['inter.broker.protocol.version'],
        },
      ],
      includeSynonyms: false,
    })
    .catch(() => undefined);
  const value = described?.resources[0]?.configEntries[0]?.configValue;
  return value ? `Apache Kafka, protocol ${value}` : 'Apache Kafka 4+ (no inter.broker.protocol.version)';
}
