// No broker needed: a peer that accepts TCP and never answers.
import { silentPeer } from '@switchyard/conformance';
import { connect, TransportError } from '@switchyard/core';
import { expect, it } from 'vitest';
import '../src/index.ts';

it('connect() fails within connectTimeoutMs against a silent peer, naming it, and then stops connecting', async () => {
  const peer = await silentPeer();
  try {
    const started = performance.now();
    const error = await connect({
      url: `kafka://user:s3cr3t@${peer.host}:${peer.port}?sasl=plain`,
      source: 'test',
      logLevel: 'nothing',
      kafka: { connectTimeoutMs: 1_500 },
    }).catch((e: unknown) => e);
    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(TransportError);
    expect((error as Error).message).toContain(`${peer.host}:${peer.port}`);
    expect((error as Error).message).toContain('connectTimeoutMs');
    expect((error as Error).message).not.toContain('s3cr3t');
    // Without the deadline it took a request timeout per attempt (30 s), retried.
    expect(elapsed).toBeLessThan(6_000);
    // kafkajs retries the abandoned connect on its own; a closed transport opens no connection for it.
    const accepted = peer.accepted;
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(peer.accepted).toBe(accepted);
  } finally {
    await peer.close();
  }
});
