// Against a port that accepts TCP and never answers, connect() fails within connectTimeoutMs with
// an error naming the (redacted) address.

import { createServer, type Socket } from 'node:net';
import { TransportError } from '@switchyard/core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { NatsTransport } from '../src/index.ts';

const sockets = new Set<Socket>();
const server = createServer((socket) => {
  sockets.add(socket);
  socket.on('error', () => {});
});
let port = 0;
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => server.close(resolve));
});

it('fails within connectTimeoutMs against a silent peer, naming the redacted address', async () => {
  const started = Date.now();
  const error = await NatsTransport.create(new URL(`nats://user:secret@127.0.0.1:${port}`), {
    connectTimeoutMs: 1_000,
  }).then(
    (transport) => transport.close().then(() => undefined),
    (e: unknown) => e,
  );
  const ms = Date.now() - started;
  expect(error).toBeInstanceOf(TransportError);
  expect((error as Error).message).toContain(`127.0.0.1:${port}`);
  expect((error as Error).message).not.toContain('secret');
  // nats.js's own default is 20 s.
  expect(ms).toBeLessThan(5_000);
});
