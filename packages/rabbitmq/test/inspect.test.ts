import { existsSync } from 'node:fs';
import { launchPrivateBroker } from '@switchyard/conformance';
import { NotFoundError, TransportError, type WireMessage } from '@switchyard/core';
import type { GroupStats } from '@switchyard/core/transport';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { RabbitMqTransport } from '../src/index.ts';
import { AMQP_URL, Fixture, filePrefix, unique, until } from './helpers.ts';
import { sweep } from './sweep.ts';

const fixture = new Fixture();
afterAll(() => sweep(filePrefix));
afterEach(() => fixture.close());

const message = (n: number): WireMessage => ({
  headers: { specversion: '1.0', id: `m-${n}`, source: 'inspect-test', type: 'test.n' },
  body: new TextEncoder().encode(String(n)),
});

/** A group holding 5 messages, 2 of them delivered to a consumer on `holder` and not settled. */
async function holding(holder: RabbitMqTransport) {
  const topic = unique('inspect');
  const group = 'g';
  await holder.provision(topic, group);
  await holder.publish(
    topic,
    Array.from({ length: 5 }, (_, n) => message(n)),
  );
  const consumer = fixture.consume(holder, topic, group, 2);
  await until(() => consumer.deliveries.length === 2, 10_000, 'two deliveries');
  // Given back before the fixture unsubscribes, so closing does not wait for them.
  const release = () => Promise.all(consumer.deliveries.map((d) => d.nack()));
  return { topic, group, release };
}

async function inspectUntil(
  t: RabbitMqTransport,
  topic: string,
  group: string,
  done: (stats: GroupStats) => boolean,
): Promise<GroupStats> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const stats = await t.inspect(topic, group);
    if (done(stats) || Date.now() > deadline) return stats;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe('RabbitMqTransport.inspect over AMQP (no management API)', () => {
  it('counts ready + this process’s unacked when its consumers are all the queue has', async () => {
    const t = await fixture.transport();
    const { topic, group, release } = await holding(t);
    const stats = await inspectUntil(t, topic, group, (s) => s.consumers === 1 && s.backlog === 5);
    expect(stats).toMatchObject({ backlog: 5, inFlight: 2, consumers: 1, position: null });
    expect(stats.definitions.backlog).toMatch(/this process/);
    await release();
  });

  it('says it counts ready messages only when another process holds the unacked ones', async () => {
    const holder = await fixture.transport();
    const other = await fixture.transport();
    const { topic, group, release } = await holding(holder);
    const stats = await inspectUntil(other, topic, group, (s) => s.consumers === 1 && s.backlog === 3);
    expect(stats).toMatchObject({ backlog: 3, inFlight: null, consumers: 1 });
    expect(stats.definitions.backlog).toMatch(/ready messages only/);
    await release();
  });

  it('a missing topic or group is a NotFoundError naming which', async () => {
    const t = await fixture.transport();
    const topic = unique('inspect-missing');
    await expect(t.inspect(topic, 'g')).rejects.toMatchObject({ name: 'NotFoundError', kind: 'topic' });
    await t.provision(topic);
    const error = await t.inspect(topic, 'g').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({ kind: 'group' });
  });
});

const rabbitmqServer = ['/usr/lib/rabbitmq/bin/rabbitmq-server', '/usr/sbin/rabbitmq-server'].some(
  existsSync,
);

// The shared broker runs without the management plugin: a private one with it, on this machine's
// rabbitmq-server (where there is none, e.g. a Docker-only laptop, the reason is printed; where every
// broker is required, CI, a missing rabbitmq-server fails the test instead of hiding it).
describe.skipIf(!rabbitmqServer && process.env.REQUIRE_BROKERS !== '1')(
  'RabbitMqTransport.inspect with the management API',
  () => {
    it('counts ready + unacked of any process, consumers and acks; bad credentials never shown', async () => {
      const broker = await launchPrivateBroker('rabbitmq', { management: true });
      try {
        const managementUrl = broker.managementUrl!;
        const holder = await fixture.transport({}, broker.url);
        const other = await fixture.transport({ managementUrl }, broker.url);
        const { topic, group, release } = await holding(holder);
        const stats = await inspectUntil(other, topic, group, (s) => s.backlog === 5 && s.inFlight === 2);
        expect(stats).toMatchObject({ backlog: 5, inFlight: 2, consumers: 1 });
        expect(stats.definitions.backlog).toMatch(/management API/);
        expect(stats.position).toMatch(/^\d+$|^null$/);

        const missing = await other.inspect(topic, 'nobody').catch((e: unknown) => e);
        expect(missing).toMatchObject({ name: 'NotFoundError', kind: 'group' });

        const secret = 's3cr3t-pw';
        const wrong = new URL(managementUrl);
        wrong.username = 'guest';
        wrong.password = secret;
        const refused = await fixture.transport({ managementUrl: wrong.toString() }, broker.url);
        const error = await refused.inspect(topic, group).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(TransportError);
        expect((error as Error).message).toMatch(/401/);
        expect(
          JSON.stringify({ message: (error as Error).message, stack: (error as Error).stack }),
        ).not.toContain(secret);
        await release();
        await fixture.close();
      } finally {
        await broker.stop();
      }
    }, 180_000);
  },
);

if (!rabbitmqServer)
  console.warn(`no rabbitmq-server on this machine: the management API test did not run (${AMQP_URL})`);
