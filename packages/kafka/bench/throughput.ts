// Publish and consume throughput of 1 KiB events: Switchyard on Kafka next to raw kafkajs, same
// broker, same run. `node --conditions=@switchyard/source packages/kafka/bench/throughput.ts [count]`
import { randomUUID } from 'node:crypto';
import { connect } from '@switchyard/core';
import { Kafka, logLevel } from 'kafkajs';
import '../src/index.ts';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const count = Number(process.argv[2] ?? 20_000);
const batch = 100;
const payload = 'x'.repeat(1024 - 40);
const rate = (n: number, ms: number) => Math.round((n / ms) * 1000);

async function raw(): Promise<{ publish: number; consume: number }> {
  const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING, clientId: 'bench-raw' });
  const admin = kafka.admin();
  await admin.connect();
  const topic = `bench-raw-${randomUUID().slice(0, 8)}`;
  await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  let started = performance.now();
  for (let i = 0; i < count; i += batch) {
    const messages = Array.from({ length: batch }, (_, j) => ({
      key: `k${(i + j) % 64}`,
      value: JSON.stringify({ n: i + j, payload }),
    }));
    await producer.send({ topic, acks: -1, messages });
  }
  const publish = rate(count, performance.now() - started);
  const consumer = kafka.consumer({ groupId: `${topic}.g`, maxWaitTimeInMs: 250 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let seen = 0;
  started = performance.now();
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachBatch: async ({ batch: b, resolveOffset }) => {
        for (const m of b.messages) {
          JSON.parse(m.value!.toString());
          resolveOffset(m.offset);
          seen++;
        }
        if (seen >= count) resolve();
      },
    });
  });
  const consume = rate(count, performance.now() - started);
  await consumer.disconnect();
  await producer.disconnect();
  await admin.disconnect();
  return { publish, consume };
}

async function switchyard(): Promise<{ publish: number; consume: number }> {
  const bus = await connect({ url: `kafka://${brokers.join(',')}`, source: 'bench' });
  const topic = `bench-sy-${randomUUID().slice(0, 8)}`;
  await bus.provision(topic, { groups: ['g'], from: 'earliest' });
  let started = performance.now();
  for (let i = 0; i < count; i += batch) {
    await bus.publishBatch(
      topic,
      Array.from({ length: batch }, (_, j) => ({
        type: 'bench',
        key: `k${(i + j) % 64}`,
        data: { n: i + j, payload },
      })),
    );
  }
  const publish = rate(count, performance.now() - started);
  let seen = 0;
  started = performance.now();
  await new Promise<void>((resolve, reject) => {
    bus.consume(topic, { group: 'g', prefetch: 512 }).subscribe((d) => {
      // A refused ack (its commit never made) would leave the count short forever: fail instead.
      d.ack().then(() => {
        if (++seen === count) resolve();
      }, reject);
    });
  });
  const consume = rate(count, performance.now() - started);
  await bus.close({ drainTimeoutMs: 1_000 });
  return { publish, consume };
}

const r = await raw();
const s = await switchyard();
console.log(`events: ${count} × 1 KiB, publish batches of ${batch}, 3 partitions, 64 keys`);
console.log(`raw kafkajs   publish ${r.publish} ev/s   consume ${r.consume} ev/s (eachBatch, auto-commit)`);
console.log(`switchyard    publish ${s.publish} ev/s   consume ${s.consume} ev/s (ack after commit)`);
