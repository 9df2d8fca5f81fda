// Throughput of the NATS transport next to the raw JetStream client, in one run on one server.
// node --conditions=@switchyard/source packages/nats/bench/throughput.ts [count] [bodyBytes]
import { randomUUID } from 'node:crypto';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { headers, connect as natsConnect } from '@nats-io/transport-node';
import { connect, handle } from '@switchyard/core';
import { NatsTransport } from '../src/index.ts';
import { streamNameFor } from '../src/names.ts';

const url = new URL(process.env.NATS_URL ?? 'nats://127.0.0.1:4222');
const count = Number(process.argv[2] ?? 20_000);
const bodyBytes = Number(process.argv[3] ?? 256);
const BATCH = 100;
const body = new Uint8Array(bodyBytes).fill(120);

const rate = (n: number, ms: number) => `${Math.round((n / ms) * 1000).toLocaleString('en')} msg/s`;

async function raw(): Promise<{ publishMs: number; consumeMs: number }> {
  const nc = await natsConnect({ servers: url.host });
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  const stream = `BENCH_RAW_${randomUUID().slice(0, 8)}`;
  const subject = `bench.raw.${stream}`;
  await jsm.streams.add({ name: stream, subjects: [subject] });
  await jsm.consumers.add(stream, {
    durable_name: 'g',
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
  });
  let started = performance.now();
  for (let i = 0; i < count; i += BATCH) {
    await Promise.all(
      Array.from({ length: Math.min(BATCH, count - i) }, () => {
        const h = headers();
        h.set('ce-type', 'bench');
        return js.publish(subject, body, { headers: h, msgID: randomUUID() });
      }),
    );
  }
  const publishMs = performance.now() - started;
  started = performance.now();
  const consumer = await js.consumers.get(stream, 'g');
  const messages = await consumer.consume({ max_messages: 256 });
  let received = 0;
  for await (const m of messages) {
    m.ack();
    if (++received === count) break;
  }
  await nc.flush();
  const consumeMs = performance.now() - started;
  await jsm.streams.delete(stream);
  await nc.close();
  return { publishMs, consumeMs };
}

async function transport(): Promise<{ publishMs: number; consumeMs: number }> {
  const t = await NatsTransport.create(url);
  const topic = `bench-transport-${randomUUID().slice(0, 8)}`;
  await t.provision(topic, 'g', 'earliest');
  let started = performance.now();
  for (let i = 0; i < count; i += BATCH) {
    await t.publish(
      topic,
      Array.from({ length: Math.min(BATCH, count - i) }, () => ({
        headers: { specversion: '1.0', id: randomUUID(), source: 'bench', type: 'bench' },
        body,
      })),
    );
  }
  const publishMs = performance.now() - started;
  started = performance.now();
  await new Promise<void>((resolve, reject) => {
    let acked = 0;
    const sub = t.subscribe(topic, { group: 'g', prefetch: 256 }).subscribe((d) => {
      // A refused ack would leave the count short forever: fail instead.
      d.ack().then(() => {
        if (++acked === count) {
          sub.unsubscribe();
          resolve();
        }
      }, reject);
    });
  });
  const consumeMs = performance.now() - started;
  await deleteStream(topic);
  await t.close();
  return { publishMs, consumeMs };
}

async function bus(): Promise<{ publishMs: number; consumeMs: number }> {
  const b = await connect({ url: url.href, source: 'bench' });
  const topic = `bench-bus-${randomUUID().slice(0, 8)}`;
  await b.provision(topic, { groups: ['g'], from: 'earliest' });
  let started = performance.now();
  for (let i = 0; i < count; i += BATCH) {
    await b.publishBatch(
      topic,
      Array.from({ length: Math.min(BATCH, count - i) }, (_, j) => ({
        type: 'bench',
        data: body,
        key: `k${(i + j) % 16}`,
      })),
    );
  }
  const publishMs = performance.now() - started;
  started = performance.now();
  await new Promise<void>((resolve) => {
    let done = 0;
    const sub = b
      .consume(topic, { group: 'g', prefetch: 256 })
      .pipe(handle(() => {}, { concurrency: 16 }))
      .subscribe(() => {
        if (++done === count) {
          sub.unsubscribe();
          resolve();
        }
      });
  });
  const consumeMs = performance.now() - started;
  await deleteStream(topic);
  await b.close();
  return { publishMs, consumeMs };
}

async function deleteStream(topic: string): Promise<void> {
  const nc = await natsConnect({ servers: url.host });
  await (await jetstreamManager(nc)).streams.delete(streamNameFor('SWITCHYARD_', topic));
  await nc.close();
}

console.log(
  `${count} messages of ${bodyBytes} B, publish batches of ${BATCH}, prefetch 256, server ${url.host}`,
);
for (const [name, run] of [
  ['raw @nats-io/jetstream (ack fire-and-forget)', raw],
  ['NatsTransport (ack confirmed)', transport],
  ['Bus + handle(), 16 keys, concurrency 16', bus],
] as const) {
  const { publishMs, consumeMs } = await run();
  console.log(
    `${name.padEnd(46)} publish ${rate(count, publishMs).padStart(14)}   consume ${rate(count, consumeMs).padStart(14)}`,
  );
}
