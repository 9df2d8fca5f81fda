// amqplib takes the heartbeat from the URL's `?heartbeat=` only and ignores a `heartbeat` socket
// option, so `heartbeatSeconds` did nothing: every connection ran on the broker's 60 s and a dead
// peer went unnoticed for two minutes. Reads amqplib's negotiated value (an internal field).
import { afterEach, expect, it } from 'vitest';
import { ConnectionManager } from '../src/connection.ts';
import { type RabbitMqOptions, resolveOptions } from '../src/options.ts';
import { AMQP_URL } from './helpers.ts';

let connection: ConnectionManager | undefined;
afterEach(() => connection?.close());

async function negotiated(options: RabbitMqOptions, query = ''): Promise<number> {
  const url = `${AMQP_URL}${query}`;
  connection = new ConnectionManager(url, resolveOptions(options, url));
  await connection.start();
  const heartbeat = (connection.current as unknown as { connection: { heartbeat: number } }).connection
    .heartbeat;
  await connection.close();
  return heartbeat;
}

it('negotiates heartbeatSeconds, else the URL heartbeat, else 10 s', async () => {
  expect(await negotiated({ heartbeatSeconds: 7 })).toBe(7);
  expect(await negotiated({})).toBe(10);
  expect(await negotiated({}, '?heartbeat=5')).toBe(5);
  // Options given in code win over the URL, as for every transport.
  expect(await negotiated({ heartbeatSeconds: 7 }, '?heartbeat=5')).toBe(7);
});
