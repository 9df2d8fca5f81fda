// Against a port that accepts TCP and never answers, connect() fails within connectTimeoutMs with
// an error naming the (redacted) address. nats.js's own default is 20 s.

import { expectConnectTimeout } from '@switchyard/conformance';
import { it } from 'vitest';
import { NatsTransport } from '../src/index.ts';

it('fails within connectTimeoutMs against a silent peer, naming the redacted address', async () => {
  await expectConnectTimeout((peer) =>
    NatsTransport.create(new URL(`nats://user:secret@${peer.host}:${peer.port}`), {
      connectTimeoutMs: 1_000,
    }),
  );
});
