// Runs under the global setup (packages/conformance/src/provision/global-setup.ts): every broker it
// provided must answer a real round trip from a test worker, at the address the tests will use.
import { type AddressInfo, createServer } from 'node:net';
import { describe, expect, inject, test } from 'vitest';
import { driverFor, ENV_VARS } from '../src/provision/drivers.ts';
import { requireBroker } from '../src/provision/index.ts';
import { kafkaVersionFromEnv } from '../src/provision/options.ts';
import { BROKER_NAMES, type BrokerName, type SqsEmulator } from '../src/provision/types.ts';

// Undefined when the run skips the global setup (SWITCHYARD_NO_BROKERS): then every case skips.
const brokers = inject('brokers') ?? {};

function driver(name: BrokerName) {
  const emulator = (brokers[name]?.emulator ?? 'fauxqs') as SqsEmulator;
  return driverFor(name, { kafkaVersion: kafkaVersionFromEnv(), emulator });
}

describe.each(BROKER_NAMES)('%s', (name) => {
  // Not asked for (BROKERS=...) is a skip; asked for but unavailable is a failure with the reason.
  test('answers a real round trip at the provided address', async (context) => {
    if (!brokers[name])
      context.skip(`${name} was not asked for in this run (BROKERS or SWITCHYARD_NO_BROKERS)`);
    const url = requireBroker(brokers, name);
    expect(process.env[ENV_VARS[name]]).toBe(url);
    const result = await driver(name).probe(url);
    expect(result.version).not.toBe('');
  });
});

describe('probes fail on what is not a working broker', () => {
  test.each(BROKER_NAMES)('%s against a closed port', async (name) => {
    const closed = {
      kafka: '127.0.0.1:1',
      rabbitmq: 'amqp://127.0.0.1:1',
      sqs: 'http://127.0.0.1:1',
      nats: 'nats://127.0.0.1:1',
    };
    await expect(driver(name).probe(closed[name])).rejects.toThrow();
  });

  test('rabbitmq says at which step a server that hangs up failed it', async () => {
    const server = createServer((socket) => socket.once('data', () => socket.destroy()));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      await expect(driver('rabbitmq').probe(`amqp://127.0.0.1:${port}`)).rejects.toThrow(
        /failed at connect: /,
      );
    } finally {
      server.close();
    }
  });

  test('kafka against the NATS port', async (context) => {
    if (!brokers.nats?.available) context.skip('no NATS in this run to play a non-Kafka server');
    const nats = new URL(brokers.nats!.url);
    await expect(driver('kafka').probe(`${nats.hostname}:${nats.port}`)).rejects.toThrow();
  });

  test('rabbitmq with wrong credentials', async (context) => {
    if (!brokers.rabbitmq?.available) context.skip('no RabbitMQ in this run to refuse the login');
    const url = new URL(brokers.rabbitmq!.url);
    url.username = 'switchyard-nobody';
    url.password = 'wrong';
    await expect(driver('rabbitmq').probe(url.toString())).rejects.toThrow(/ACCESS_REFUSED/);
  });
});
