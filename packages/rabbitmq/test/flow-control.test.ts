// connection.blocked: the broker stops reading from publishers under a resource alarm. Raising a real
// alarm would block every client of the shared test broker, so the event is emitted on the live
// connection object, exactly as amqplib emits it when the broker sends connection.blocked.
import { TransportError, UnsupportedOptionError } from '@switchyard/core';
import { afterAll, afterEach, expect, it } from 'vitest';
import { ConnectionManager } from '../src/connection.ts';
import { exchangeName } from '../src/names.ts';
import { type RabbitMqOptions, resolveOptions } from '../src/options.ts';
import { Publisher } from '../src/publisher.ts';
import { AMQP_URL, filePrefix, unique } from './helpers.ts';
import { sweep } from './sweep.ts';

const opened: Array<{ connection: ConnectionManager; publisher: Publisher }> = [];
afterAll(() => sweep(filePrefix));
afterEach(async () => {
  for (const { connection, publisher } of opened.splice(0)) {
    await publisher.close();
    await connection.close();
  }
});

async function open(publishTimeoutMs: number) {
  const connection = new ConnectionManager(AMQP_URL, resolveOptions({ publishTimeoutMs }));
  await connection.start();
  const publisher = new Publisher(connection, publishTimeoutMs);
  opened.push({ connection, publisher });
  const topic = unique('blocked');
  const calls = { prepare: 0 };
  const outgoing = {
    exchange: exchangeName(topic),
    routingKey: '',
    content: Buffer.from('x'),
    options: {},
    mandatory: false,
    prepare: async () => {
      calls.prepare += 1;
      const model = await connection.whenOpen();
      const channel = await model.createChannel();
      await channel.assertExchange(exchangeName(topic), 'topic', { durable: false, autoDelete: true });
      await channel.close();
    },
  };
  return { connection, publisher, outgoing, calls };
}

it('holds publishes while the connection is blocked and sends them once unblocked', async () => {
  const { connection, publisher, outgoing, calls } = await open(10_000);
  connection.current!.emit('blocked', 'low on memory');
  expect(connection.blockedReason).toBe('low on memory');
  let resolved = false;
  const publishing = publisher.publish(outgoing).then(() => {
    resolved = true;
  });
  // Nothing may even be declared while blocked; a publish that went ahead resolves in a few ms here.
  await new Promise((r) => setTimeout(r, 300));
  expect(calls.prepare).toBe(0);
  expect(resolved).toBe(false);
  connection.current!.emit('unblocked');
  await publishing;
  expect(calls.prepare).toBe(1);
});

it('rejects with TransportError naming the alarm when still blocked at publishTimeoutMs', async () => {
  const { connection, publisher, outgoing } = await open(300);
  connection.current!.emit('blocked', 'disk alarm');
  await expect(publisher.publish(outgoing)).rejects.toThrow(TransportError);
  await expect(publisher.publish(outgoing)).rejects.toThrow(/blocked publishing \(disk alarm\)/);
});

it('refuses a duration a timer cannot keep (Node would fire it after 1 ms), naming it', () => {
  const options = (name: string, ms: number): RabbitMqOptions =>
    name.startsWith('reconnect.') ? { reconnect: { [name.slice('reconnect.'.length)]: ms } } : { [name]: ms };
  for (const name of [
    'publishTimeoutMs',
    'connectTimeoutMs',
    'reconnect.initialDelayMs',
    'reconnect.maxDelayMs',
  ]) {
    for (const ms of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31]) {
      expect(() => resolveOptions(options(name, ms)), `${name}: ${ms}`).toThrow(UnsupportedOptionError);
      expect(() => resolveOptions(options(name, ms))).toThrow(
        new RegExp(`${name.replace('.', '\\.')} must be a number of milliseconds`),
      );
    }
  }
  // reconnect.maxDelayMs: Infinity made every retry after a lost connection 1 ms apart.
  expect(() => resolveOptions({ reconnect: { initialDelayMs: 500, maxDelayMs: 100 } })).toThrow(
    /reconnect\.maxDelayMs must be a number of milliseconds from 500/,
  );
  const resolved = resolveOptions({ publishTimeoutMs: 2 ** 31 - 1, reconnect: { maxDelayMs: 60_000 } });
  expect(resolved.publishTimeoutMs).toBe(2 ** 31 - 1);
  expect(resolved.reconnectMaxMs).toBe(60_000);
});
