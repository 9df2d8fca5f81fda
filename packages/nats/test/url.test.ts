// nats:// reads no URL parameter: a `?tls=true` (or any other) used to be dropped silently, so the
// connection went out in plaintext with the URL's password. Port 1: a refused URL never connects.

import { InvalidUrlError, TransportError } from '@switchyard/core';
import { expect, it } from 'vitest';
import { NatsTransport } from '../src/index.ts';

it('refuses any URL parameter before connecting, without echoing the URL', async () => {
  for (const url of [
    'nats://alice:pw-s3cret@127.0.0.1:1?tls=true',
    'nats://tok-s3cret@127.0.0.1:1?token=x',
    'nats://127.0.0.1:1?tls=true&tls=false',
  ]) {
    const error = await NatsTransport.create(url).catch((e: unknown) => e);
    expect(error, url).toBeInstanceOf(InvalidUrlError);
    expect((error as Error).message).toMatch(/^Unknown nats:\/\/ parameter '(tls|token)'/);
    expect((error as Error).message).not.toContain('s3cret');
  }
  // An empty query carries no parameter: the URL is read as before (and port 1 refuses).
  await expect(NatsTransport.create('nats://127.0.0.1:1?', { connectTimeoutMs: 1_000 })).rejects.toThrow(
    TransportError,
  );
});
