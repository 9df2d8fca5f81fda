// RabbitMQ passes the same suite as every other broker, including cutting its connection through a proxy.

import { launchPrivateBroker, runConformance } from '@switchyard/conformance';
import { connect } from '@switchyard/core';
import { connect as amqpConnect } from 'amqplib';
import { RabbitMqTransport } from '../src/index.ts';
import { AMQP_URL, amqpUrlThrough } from './helpers.ts';
import { sweep } from './sweep.ts';

let run = 0;
const upstream = new URL(AMQP_URL);

runConformance({
  name: 'rabbitmq',
  url: AMQP_URL,
  capabilities: new RabbitMqTransport(AMQP_URL).capabilities,
  connect: (options) => connect({ url: options?.url ?? AMQP_URL, source: `conformance-${run++}` }),
  // A foreign producer: plain bytes on the topic's exchange, no CloudEvents headers at all.
  async injectRaw(topic, body) {
    const connection = await amqpConnect(AMQP_URL);
    try {
      const channel = await connection.createConfirmChannel();
      await channel.assertExchange(topic, 'topic', { durable: true });
      channel.publish(topic, '', Buffer.from(body), { persistent: true });
      await channel.waitForConfirms();
    } finally {
      await connection.close();
    }
  },
  urlThroughProxy: (proxy) => amqpUrlThrough(proxy),
  upstream: { host: upstream.hostname, port: Number(upstream.port || 5672) },
  // The broker redelivers as soon as it sees the TCP connection of a killed member close.
  redeliveryAfterCrashMs: 10_000,
  // The restart case bounces a RabbitMQ node of its own (rabbitmq-server on other ports and dirs).
  privateBroker: () => launchPrivateBroker('rabbitmq'),
  sweep,
});
