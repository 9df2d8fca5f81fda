// Kafka passes the same suite as every other broker: crash (SIGKILL), a cut through a TCP proxy,
// and a restart of a private broker.
import { launchPrivateBroker, runConformance } from '@switchyard/conformance';
import { connect } from '@switchyard/core';
import { Kafka, logLevel } from 'kafkajs';
import { KafkaTransport } from '../src/index.ts';
import { BROKERS, URL_ } from './helpers.ts';
import { sweep } from './sweep.ts';

let run = 0;
const [first = '127.0.0.1:9092'] = BROKERS.split(',');
const upstream = {
  host: first.slice(0, first.lastIndexOf(':')),
  port: Number(first.slice(first.lastIndexOf(':') + 1)),
};

runConformance({
  name: 'kafka',
  url: URL_,
  capabilities: new KafkaTransport(URL_).capabilities,
  connect: (options) => {
    const url = options?.url ?? URL_;
    // Through the proxy, every broker connection goes to the proxy: a Kafka client otherwise
    // connects straight to the address the broker advertises, around the proxy.
    const proxy = url === URL_ ? undefined : new URL(url);
    return connect({
      url,
      source: `conformance-${run++}`,
      ...(proxy
        ? { kafka: { rewriteAddress: () => ({ host: proxy.hostname, port: Number(proxy.port) }) } }
        : {}),
    });
  },
  // A foreign producer: plain bytes, no key, no headers at all.
  async injectRaw(topic, body) {
    const producer = new Kafka({ brokers: BROKERS.split(','), logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    try {
      await producer.send({ topic, acks: -1, messages: [{ value: Buffer.from(body) }] });
    } finally {
      await producer.disconnect();
    }
  },
  urlThroughProxy: (proxy) => `kafka://${proxy.host}:${proxy.port}`,
  upstream,
  // The restart case bounces a Kafka of its own, from the same jars as the shared one.
  privateBroker: async () => {
    const broker = await launchPrivateBroker('kafka');
    return { url: `kafka://${broker.url}`, restart: broker.restart, stop: broker.stop };
  },
  // A killed member's partitions move once its session times out (10 s), then a rebalance.
  redeliveryAfterCrashMs: 20_000,
  sweep,
});
