import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TcpProxy } from '@switchyard/conformance';
import { TransportError } from '@switchyard/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Collector, Fixture, message, NATS_URL, unique, until } from './helpers.ts';

let fixture: Fixture;
let proxy: TcpProxy;
beforeEach(async () => {
  fixture = new Fixture();
  const upstream = new URL(NATS_URL);
  proxy = await new TcpProxy({ host: upstream.hostname, port: Number(upstream.port || 4222) }).start();
});
afterEach(async () => {
  await fixture.close();
  await proxy.close();
});

describe('connection loss', () => {
  it('refuses to settle a delivery of the lost connection; the server redelivers it', async () => {
    const direct = await fixture.transport();
    const proxied = await fixture.transport({}, `nats://127.0.0.1:${proxy.port}`);
    const topic = fixture.topic();
    const group = unique('g');
    await direct.provision(topic, group);
    const collector = new Collector(proxied, topic, { group });
    const sent = message();
    await direct.publish(topic, [sent]);
    const [stale] = await collector.atLeast(1);

    proxy.cut(false);
    // A publish through the proxy resolves only once the client is connected again.
    await proxied.publish(topic, [message()]);
    await expect(stale!.ack()).rejects.toBeInstanceOf(TransportError);

    const deliveries = await collector.atLeast(3);
    const again = deliveries.find((d) => d !== stale && d.message.headers.id === sent.headers.id);
    expect(again?.attempt).toBe(2);
    await Promise.all(deliveries.slice(1).map((d) => d.ack()));
    await until(async () => (await fixture.consumerInfo(topic, group)).num_ack_pending === 0);
  });

  it('resolves a publish made during an outage once reconnected, and keeps consuming', async () => {
    const proxied = await fixture.transport({}, `nats://127.0.0.1:${proxy.port}`);
    const topic = fixture.topic();
    const group = unique('g');
    await proxied.provision(topic, group);
    const collector = new Collector(proxied, topic, { group }, (d) => d.ack());
    const before = message();
    await proxied.publish(topic, [before]);
    await collector.atLeast(1);

    proxy.cut(true);
    const during = message();
    const publishing = proxied.publish(topic, [during]);
    setTimeout(() => proxy.heal(), 1_500);
    await publishing;
    await until(() => collector.ids().includes(during.headers.id!), 20_000);
    expect(await fixture.streamMessages(topic)).toBe(2);
  });
});

describe('server restart', () => {
  let server: ChildProcess | undefined;
  let storeDir = '';

  afterEach(async () => {
    await stopServer(server);
    if (storeDir) rmSync(storeDir, { recursive: true, force: true });
  });

  it('resumes a subscription and keeps every stored message across a restart of the server', async () => {
    storeDir = mkdtempSync(join(tmpdir(), 'switchyard-nats-'));
    const port = await freePort();
    server = await startServer(port, storeDir);
    const transport = await fixture.transport({}, `nats://127.0.0.1:${port}`);
    const topic = unique('restart');
    const group = unique('g');
    await transport.provision(topic, group);
    const collector = new Collector(transport, topic, { group }, (d) => d.ack());
    const first = Array.from({ length: 20 }, () => message());
    await transport.publish(topic, first);
    await collector.atLeast(20);

    await stopServer(server);
    server = await startServer(port, storeDir);
    const second = Array.from({ length: 20 }, () => message());
    await transport.publish(topic, second);

    const ids = new Set([...first, ...second].map((m) => m.headers.id));
    await until(() => [...ids].every((id) => collector.ids().includes(id!)), 30_000);
    expect(collector.error).toBeUndefined();
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/** A nats-server of this test's own (file store in `storeDir`), ready once it accepts connections. */
async function startServer(port: number, storeDir: string): Promise<ChildProcess> {
  const child = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir], {
    stdio: 'ignore',
  });
  await until(
    () =>
      new Promise<boolean>((resolve) => {
        const socket = createServer().listen(port, '127.0.0.1');
        socket.once('listening', () => socket.close(() => resolve(false)));
        socket.once('error', () => resolve(true));
      }),
    10_000,
  );
  return child;
}

async function stopServer(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}
