// The Kafka conformance target, on either client driver (conformance*.test.ts run it).
import { type ConformanceTarget, launchPrivateBroker } from '@switchyard/conformance';
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

/**
 * The Kafka target of the conformance suite on the driver `client` (the URL's `?client=`), so the
 * crash child, the proxy and the private broker run on the same driver as the buses.
 */
export function kafkaTarget(client: 'kafkajs' | 'platformatic'): ConformanceTarget {
  const query = client === 'kafkajs' ? '' : `?client=${client}`;
  const url = `${URL_}${query}`;
  return {
    name: client === 'kafkajs' ? 'kafka' : `kafka-${client}`,
    url,
    capabilities: new KafkaTransport(URL_).capabilities,
    connect: (options) => {
      const target = options?.url ?? url;
      // Through the proxy, every broker connection goes to the proxy: a Kafka client otherwise
      // connects straight to the address the broker advertises, around the proxy.
      const proxy = target === url ? undefined : new URL(target);
      return connect({
        url: target,
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
    urlThroughProxy: (proxy) => `kafka://${proxy.host}:${proxy.port}${query}`,
    upstream,
    // The restart case bounces a Kafka of its own, from the same jars as the shared one.
    privateBroker: async () => {
      const broker = await launchPrivateBroker('kafka');
      return { url: `kafka://${broker.url}${query}`, restart: broker.restart, stop: broker.stop };
    },
    // A killed member's partitions move once its session times out (10 s), then a rebalance.
    redeliveryAfterCrashMs: 20_000,
    sweep,
  };
}
