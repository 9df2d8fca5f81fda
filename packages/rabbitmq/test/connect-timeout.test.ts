// Against a port that accepts TCP and never answers, connect() fails within connectTimeoutMs with
// an error naming the (redacted) address. Before connectTimeoutMs it was still pending after 300 s.

import { expectConnectTimeout } from '@switchyard/conformance';
import { it } from 'vitest';
import { RabbitMqTransport } from '../src/index.ts';

it('fails within connectTimeoutMs against a silent peer, naming the redacted address', async () => {
  await expectConnectTimeout((peer) =>
    RabbitMqTransport.create(`amqp://user:secret@${peer.host}:${peer.port}`, { connectTimeoutMs: 1_000 }),
  );
});
