// Throughput on the same broker in one run: raw amqplib, this transport, and the whole Bus on it.
// node --conditions=@switchyard/source packages/rabbitmq/bench/throughput.ts [messages] [bytes]
import { randomUUID } from 'node:crypto';
import { Bus, handle, type WireMessage } from '@switchyard/core';
import { connect } from 'amqplib';
import { filter, firstValueFrom } from 'rxjs';
import { RabbitMqTransport } from '../src/index.ts';

const url = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672/%2F';
const total = Number(process.argv[2] ?? 20_000);
const size = Number(process.argv[3] ?? 1_024);
const batch = 100;
const prefetch = 256;
const body = Buffer.alloc(size, 7);

const rate = (n: number, ms: number) => `${Math.round((n / ms) * 1000).toLocaleString('en')} msg/s`;

async function raw(): Promise<[number, number]> {
  const topic = `bench.raw.${randomUUID().slice(0, 8)}`;
  const connection = await connect(url);
  const channel = await connection.createConfirmChannel();
  await channel.assertExchange(topic, 'topic', { durable: true });
  const queue = `${topic}:g`;
  await channel.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  await channel.bindQueue(queue, topic, '#');
  let started = performance.now();
  for (let i = 0; i < total; i += batch) {
    for (let j = 0; j < batch; j++) {
      channel.publish(topic, `k${j % 16}`, body, {
        persistent: true,
        headers: { 'cloudEvents:id': `${i + j}` },
      });
    }
    await channel.waitForConfirms();
  }
  const publishMs = performance.now() - started;
  const consumer = await connection.createChannel();
  await consumer.prefetch(prefetch);
  started = performance.now();
  await new Promise<void>((resolve) => {
    let seen = 0;
    void consumer.consume(queue, (message) => {
      if (!message) return;
      consumer.ack(message);
      if (++seen === total) resolve();
    });
  });
  const consumeMs = performance.now() - started;
  await channel.deleteQueue(queue);
  await channel.deleteExchange(topic);
  await connection.close();
  return [publishMs, consumeMs];
}

async function transport(): Promise<[number, number]> {
  const topic = `bench.transport.${randomUUID().slice(0, 8)}`;
  const t = await RabbitMqTransport.create(url);
  await t.provision(topic, 'g');
  const messages: WireMessage[] = Array.from({ length: batch }, (_, j) => ({
    headers: { specversion: '1.0', id: `${j}`, source: 'bench', type: 'bench', partitionkey: `k${j % 16}` },
    body,
    key: `k${j % 16}`,
  }));
  let started = performance.now();
  for (let i = 0; i < total; i += batch) await t.publish(topic, messages);
  const publishMs = performance.now() - started;
  started = performance.now();
  let seen = 0;
  await firstValueFrom(
    t.subscribe(topic, { group: 'g', prefetch }).pipe(
      filter((d) => {
        void d.ack();
        return ++seen === total;
      }),
    ),
  );
  const consumeMs = performance.now() - started;
  await t.close();
  return [publishMs, consumeMs];
}

async function bus(): Promise<[number, number]> {
  const topic = `bench.bus.${randomUUID().slice(0, 8)}`;
  const b = new Bus(await RabbitMqTransport.create(url), { source: 'bench' });
  await b.provision(topic, { groups: ['g'] });
  const events = Array.from({ length: batch }, (_, j) => ({ type: 'bench', key: `k${j % 16}`, data: body }));
  let started = performance.now();
  for (let i = 0; i < total; i += batch) await b.publishBatch(topic, events);
  const publishMs = performance.now() - started;
  started = performance.now();
  let seen = 0;
  await firstValueFrom(
    b.consume(topic, { group: 'g', prefetch }).pipe(
      handle(() => undefined, { concurrency: 64 }),
      filter(() => ++seen === total),
    ),
  );
  const consumeMs = performance.now() - started;
  await b.close();
  return [publishMs, consumeMs];
}

console.log(
  `RabbitMQ ${new URL(url).host}: ${total} messages of ${size} B, publish batches of ${batch} awaited in turn, prefetch ${prefetch}, quorum queue`,
);
for (const [name, run] of [
  ['raw amqplib', raw],
  ['transport', transport],
  ['Bus (handle)', bus],
] as const) {
  const [publishMs, consumeMs] = await run();
  console.log(
    `${name.padEnd(14)} publish ${rate(total, publishMs).padStart(14)}   consume ${rate(total, consumeMs).padStart(14)}`,
  );
}
