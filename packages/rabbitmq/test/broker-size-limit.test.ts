// A message the broker refuses for size (above its max_message_size, 128 MiB on the shared broker)
// closes the publish channel. It must fail at once with a typed error, not be sent again until
// publishTimeoutMs, and other publishes must not wait for it.

import { MessageTooLargeError } from '@switchyard/core';
import { afterAll, afterEach, expect, it } from 'vitest';
import { Fixture, filePrefix, unique } from './helpers.ts';
import { sweep } from './sweep.ts';

const BROKER_MAX = 128 * 1024 * 1024;
const fixture = new Fixture();
afterEach(() => fixture.close());
// The topic's exchange outlives the transport: without this, every run left one behind.
afterAll(() => sweep(filePrefix));

it('rejects a message above the broker’s max_message_size with MessageTooLargeError at once, sent once', async () => {
  // The transport's own limit above the broker's, so the broker is the one to refuse.
  const transport = await fixture.transport({ maxMessageBytes: 2 * BROKER_MAX, publishTimeoutMs: 20_000 });
  const topic = unique('oversize');
  await transport.provision(topic);
  const big = {
    headers: { specversion: '1.0', id: unique('big'), source: 't', type: 't' },
    body: new Uint8Array(BROKER_MAX + 1),
  };
  const small = {
    headers: { specversion: '1.0', id: unique('small'), source: 't', type: 't' },
    body: new Uint8Array(10),
  };
  const started = Date.now();
  const refused = transport.publish(topic, [big]).then(
    () => undefined,
    (error: unknown) => ({ error, ms: Date.now() - started }),
  );
  const other = transport.publish(topic, [small]).then(() => Date.now() - started);
  const result = await refused;
  const otherMs = await other;
  expect(result?.error).toBeInstanceOf(MessageTooLargeError);
  expect((result!.error as MessageTooLargeError).limit).toBe(BROKER_MAX);
  // Well under publishTimeoutMs (20 s): refused, not timed out.
  expect(result!.ms).toBeLessThan(10_000);
  expect(otherMs).toBeLessThan(10_000);
}, 60_000);
