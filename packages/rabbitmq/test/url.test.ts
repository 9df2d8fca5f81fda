// amqplib reads five URL parameters and dropped any other: `?verify=verify_peer` or a misspelt
// `?heartbaet=5` did nothing, `?heartbeat=5s` meant 5, and of `?heartbeat=5&heartbeat=60` the first
// won. The transport now refuses those before connecting (port 1 shows it never tries).

import { InvalidUrlError, TransportError } from '@switchyard/core';
import { afterEach, expect, it } from 'vitest';
import type { RabbitMqTransport } from '../src/index.ts';
import { AMQP_URL, Fixture } from './helpers.ts';

const fixture = new Fixture();
afterEach(() => fixture.close());

it('refuses a URL parameter it does not know or cannot read, without echoing the URL', async () => {
  for (const url of [
    'amqp://alice:pw-s3cret@127.0.0.1:1/%2F?verify=verify_peer',
    'amqps://alice:pw-s3cret@127.0.0.1:1?heartbaet=5',
    'amqp://alice:pw-s3cret@127.0.0.1:1?heartbeat=5s',
    'amqp://alice:pw-s3cret@127.0.0.1:1?frameMax=',
    'amqp://alice:pw-s3cret@127.0.0.1:1?heartbeat=5&heartbeat=60',
    'amqp://alice:pw-s3cret@127.0.0.1:1?locale=en_US&password=pw-s3cret',
  ]) {
    const error = await fixture.transport({}, url).catch((e: unknown) => e);
    expect(error, url).toBeInstanceOf(InvalidUrlError);
    expect((error as Error).message).toMatch(/^(Unknown )?amqps?:\/\/ parameter/);
    expect((error as Error).message).not.toContain('s3cret');
  }
  await expect(fixture.transport({ connectTimeoutMs: 1_000 }, 'amqp://127.0.0.1:1?')).rejects.toThrow(
    TransportError,
  );
});

it('connects with the parameters amqplib reads', async () => {
  const url = new URL(AMQP_URL);
  for (const [name, value] of Object.entries({
    heartbeat: '30',
    frameMax: '131072',
    channelMax: '100',
    maxFrameSize: '0',
    locale: 'en_US',
  })) {
    url.searchParams.set(name, value);
  }
  const transport: RabbitMqTransport = await fixture.transport({}, url.toString());
  expect(transport).toBeDefined();
});
