// No broker needed: an endpoint that accepts TCP and never answers.
import { silentPeer } from '@switchyard/conformance';
import { connect, TransportError } from '@switchyard/core';
import { expect, it } from 'vitest';
import '../src/index.ts';

it('the first request fails within connectTimeoutMs against a silent endpoint, naming it', async () => {
  const peer = await silentPeer();
  try {
    const endpoint = `http://${peer.host}:${peer.port}`;
    const bus = await connect({
      url: `sqs://?endpoint=${encodeURIComponent(endpoint)}&region=us-east-1`,
      source: 'test',
      sqs: { connectTimeoutMs: 1_500 },
    });
    for (const attempt of [
      () => bus.provision('orders', { groups: ['g'] }),
      () => bus.publish('orders', { type: 't' }),
    ]) {
      const started = performance.now();
      const error = await attempt().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TransportError);
      expect((error as Error).message).toContain(`${peer.host}:${peer.port}`);
      expect((error as Error).message).toContain('connectTimeoutMs');
      // Without the deadline: the long-poll request timeout, three attempts over.
      expect(performance.now() - started).toBeLessThan(6_000);
    }
    await bus.close();
  } finally {
    await peer.close();
  }
});
