import { createServer, type Socket } from 'node:net';
import { TransportError } from '@switchyard/core';
import { expect } from 'vitest';

/**
 * A TCP server on 127.0.0.1 that accepts every connection and never sends a byte: what a
 * firewall that swallows packets after the handshake, a wrong port on a busy host or a hung
 * broker looks like to a client. Whatever is written to it is read and dropped.
 */
export async function silentPeer(): Promise<{
  host: string;
  port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  close(): Promise<void>;
}> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createServer((socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.on('data', () => {});
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    host: '127.0.0.1',
    port,
    get accepted() {
      return accepted;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * A transport's own connect-timeout test: `open` connects to a silent peer (its URL carrying
 * `secret` as the password) with a short connectTimeoutMs. It must reject within `withinMs` with a
 * TransportError naming the peer's address and not the secret; a connection that opens is closed
 * and fails the check.
 */
export async function expectConnectTimeout(
  open: (peer: { host: string; port: number }) => Promise<{ close(): Promise<unknown> }>,
  { secret = 'secret', withinMs = 5_000 }: { secret?: string; withinMs?: number } = {},
): Promise<void> {
  const peer = await silentPeer();
  try {
    const started = performance.now();
    const error = await open(peer).then(
      (opened) => opened.close().then(() => undefined),
      (e: unknown) => e,
    );
    const elapsedMs = performance.now() - started;
    expect(error).toBeInstanceOf(TransportError);
    expect((error as Error).message).toContain(`${peer.host}:${peer.port}`);
    expect((error as Error).message).not.toContain(secret);
    expect(elapsedMs).toBeLessThan(withinMs);
  } finally {
    await peer.close();
  }
}
