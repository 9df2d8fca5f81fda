// The dashboard's HTTP face on memory:// (no browser): who may read and redrive dead letters.
import { request } from 'node:http';
import { connect } from '@switchyard/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Dashboard, dashboard } from '../src/index.ts';

let page: Dashboard;
let bus: Awaited<ReturnType<typeof connect>>;
beforeAll(async () => {
  bus = await connect({ url: 'memory://dashboard-server-test', source: 'dashboard-test' });
  await bus.provision('orders', { groups: ['billing'] });
  page = await dashboard({ bus, watch: [{ topic: 'orders', group: 'billing' }] });
});
afterAll(async () => {
  await page?.close();
  await bus?.close();
});

function call(method: string, path: string, headers: Record<string, string>, body?: string) {
  const { port } = new URL(page.url);
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('dashboard server on loopback', () => {
  const port = () => new URL(page.url).port;

  it('serves the page and the dead letters to loopback names', async () => {
    for (const host of [`127.0.0.1:${port()}`, `localhost:${port()}`]) {
      expect((await call('GET', '/', { host })).status).toBe(200);
      expect((await call('GET', '/api/dlq?topic=orders&group=billing', { host })).status).toBe(200);
    }
  });

  // DNS rebinding: evil.example made to resolve to 127.0.0.1 is "same origin" to the browser.
  it('refuses another host name, even with a matching Origin (DNS rebinding)', async () => {
    const host = `evil.example:${port()}`;
    const origin = `http://${host}`;
    expect((await call('GET', '/api/dlq?topic=orders&group=billing', { host, origin })).status).toBe(403);
    const redrive = await call(
      'POST',
      '/api/dlq/redrive?topic=orders&group=billing',
      { host, origin, 'content-type': 'application/json' },
      '{"dryRun":true}',
    );
    expect(redrive.status).toBe(403);
  });

  it('still refuses a cross-origin redrive from a loopback name', async () => {
    const host = `127.0.0.1:${port()}`;
    const redrive = await call(
      'POST',
      '/api/dlq/redrive?topic=orders&group=billing',
      { host, origin: 'http://evil.example', 'content-type': 'application/json' },
      '{"dryRun":true}',
    );
    expect(redrive.status).toBe(403);
  });
});

describe('options', () => {
  // A NaN, 0 or Infinity refreshMs read every watched group every millisecond (a timer runs those
  // after 1 ms); refused before anything listens.
  it('refuses a refreshMs or deadLetterLimit it cannot use, naming it', async () => {
    const watch = [{ topic: 'orders', group: 'billing' }];
    for (const [options, message] of [
      [{ refreshMs: 0 }, /refreshMs must be a number of milliseconds from 1/],
      [{ refreshMs: Number.POSITIVE_INFINITY }, /refreshMs must be a number of milliseconds/],
      [{ deadLetterLimit: Number.NaN }, /deadLetterLimit must be a whole number from 1/],
    ] as const)
      await expect(dashboard({ bus, watch, ...options }), JSON.stringify(options)).rejects.toThrow(message);
  });
});
