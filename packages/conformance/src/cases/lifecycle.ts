import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createEvent, handle, MessageTooLargeError, type Outcome, TransportError } from '@switchyard/core';
import { encode, encodedSize } from '@switchyard/core/transport';
import { expect } from 'vitest';
import { collect, sleep, until } from '../collect.ts';
import { numbered } from '../events.ts';
import { uniqueName } from '../names.ts';
import { silentPeer } from '../silent-peer.ts';
import { TcpProxy } from '../tcp-proxy.ts';
import { type Case, requires } from './case.ts';

const CHILD = fileURLToPath(new URL('../crash-child.ts', import.meta.url));

/** Retry a publish the way a user would while the broker is away; give up after `deadlineMs`. */
async function publishPatiently(publish: () => Promise<unknown>, deadlineMs: number): Promise<void> {
  const started = Date.now();
  for (;;) {
    try {
      await publish();
      return;
    } catch (error) {
      if (Date.now() - started > deadlineMs) throw error;
      await sleep(250);
    }
  }
}

function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
    }),
  ]);
}

export const lifecycleCases: Case[] = [
  {
    id: 'lease',
    title: 'a handler slower than the broker’s ack deadline keeps its lease: delivered once',
    notApplicable: (_, target) => (target.ackDeadlineMs ? undefined : 'the broker has no ack deadline'),
    timeoutMs: 120_000,
    async run({ target, bus, note }) {
      const b = await bus();
      const topic = uniqueName('lease');
      await b.provision(topic, { groups: ['g'] });
      const handlerMs = target.ackDeadlineMs! * 2 + 500;
      note('handlerMs', handlerMs);
      let calls = 0;
      const outcomes: Outcome[] = [];
      const sub = b
        .consume(topic, { group: 'g' })
        .pipe(
          handle(
            () => {
              calls += 1;
              return sleep(handlerMs);
            },
            { timeoutMs: 0 },
          ),
        )
        .subscribe((o) => outcomes.push(o));
      await b.publish(topic, { type: 'slow', data: 1 });
      await until(() => outcomes.length >= 1, handlerMs + 30_000, 'the slow handler did not finish');
      await sleep(target.ackDeadlineMs! + 1_000);
      sub.unsubscribe();
      expect(outcomes.map((o) => o.kind)).toEqual(['acked']);
      expect(calls).toBe(1);
    },
  },
  {
    id: 'crash',
    title:
      'crash: a member in a child process killed with SIGKILL holding 10 unacked events → all 10 redelivered to a new member',
    notApplicable: requires('shared'),
    timeoutMs: 180_000,
    async run({ target, bus, defer, note }) {
      const b = await bus();
      const topic = uniqueName('crash');
      await b.provision(topic, { groups: ['g'] });
      const child = spawn(
        process.execPath,
        ['--conditions=@switchyard/source', CHILD, target.url, topic, 'g', '10'],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      defer(() => child.kill('SIGKILL'));
      let out = '';
      let err = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
      await until(
        () => out.includes('SUBSCRIBED') || child.exitCode !== null,
        60_000,
        `child did not subscribe: ${err}`,
      );
      // Give a group join (Kafka rebalance) a moment to finish before the events exist.
      const sent = await b.publishBatch(topic, numbered(10));
      await until(
        () => out.includes('HOLDING') || child.exitCode !== null,
        90_000,
        `child did not receive 10: ${err}`,
      );
      expect(child.exitCode).toBeNull();
      child.kill('SIGKILL');
      const killedAt = performance.now();
      const got = await collect(b.consume(topic, { group: 'g' }), {
        count: 10,
        idleMs: 1_000,
        timeoutMs: (target.redeliveryAfterCrashMs ?? 60_000) + 30_000,
      });
      note('redeliveredAfterMs', Math.round(performance.now() - killedAt));
      expect(new Set(got.ids)).toEqual(new Set(sent.map((e) => e.id)));
    },
  },
  {
    id: 'drain',
    title:
      'drain: close() with 5 in flight resolves after they finish and are acked; nothing new is taken; nothing acked is redelivered',
    timeoutMs: 120_000,
    async run({ bus }) {
      const b = await bus();
      const topic = uniqueName('drain');
      await b.provision(topic, { groups: ['g'] });
      const sent = await b.publishBatch(topic, numbered(20));
      const started: string[] = [];
      const finishedAt: number[] = [];
      const outcomes: Outcome[] = [];
      b.consume(topic, { group: 'g', prefetch: 20 })
        .pipe(
          handle(
            async (event) => {
              started.push(event.id);
              await sleep(800);
              finishedAt.push(performance.now());
            },
            { concurrency: 5 },
          ),
        )
        .subscribe((o) => outcomes.push(o));
      await until(() => started.length >= 5, 30_000, 'five handlers did not start');
      await b.close({ drainTimeoutMs: 10_000 });
      const closedAt = performance.now();
      expect(started).toHaveLength(5);
      expect(finishedAt).toHaveLength(5);
      for (const t of finishedAt) expect(t).toBeLessThanOrEqual(closedAt);
      const acked = outcomes.filter((o) => o.kind === 'acked').map((o) => o.event!.id);
      expect(new Set(acked)).toEqual(new Set(started));
      const next = await bus();
      const rest = await collect(next.consume(topic, { group: 'g' }), {
        count: 15,
        idleMs: 2_000,
        timeoutMs: 90_000,
      });
      expect(rest.ids.filter((id) => acked.includes(id))).toEqual([]);
      expect(new Set([...rest.ids, ...acked])).toEqual(new Set(sent.map((e) => e.id)));
    },
  },
  {
    id: 'size',
    title:
      'size: a message at the declared max arrives byte-equal; 1 byte over → MessageTooLargeError before sending; a batch names the oversized entry',
    timeoutMs: 120_000,
    async run({ target, bus }) {
      const b = await bus();
      const topic = uniqueName('size');
      await b.provision(topic, { groups: ['g'] });
      const max = target.capabilities.maxMessageBytes;
      const at = (payload: number, id: string) => ({
        type: 'size',
        id,
        time: '2026-01-01T00:00:00.000Z',
        data: new Uint8Array(payload).map((_, i) => i % 251),
      });
      const overhead = encodedSize(encode(createEvent(at(0, 'size-at-max-0000'), b.source)));
      const payload = max - overhead;
      const fits = at(payload, 'size-at-max-0000');
      expect(encodedSize(encode(createEvent(fits, b.source)))).toBe(max);
      await b.publish(topic, fits);
      const over = b.publish(topic, at(payload + 1, 'size-over-max-00'));
      await expect(over).rejects.toBeInstanceOf(MessageTooLargeError);
      await expect(over).rejects.toMatchObject({ size: max + 1, limit: max, index: 0 });
      const batch = b.publishBatch<unknown>(topic, [
        { type: 'small', data: 1 },
        { type: 'small', data: 2 },
        { type: 'small', data: 3 },
        at(payload + 1, 'size-over-max-03'),
        { type: 'small', data: 5 },
      ]);
      await expect(batch).rejects.toMatchObject({ name: 'MessageTooLargeError', index: 3 });
      const got = await collect(b.consume(topic, { group: 'g' }), { count: 1, idleMs: 2_000 });
      expect(got.ids).toEqual(['size-at-max-0000']);
      const body = got.deliveries[0]!.event!.data as Uint8Array;
      expect(Buffer.from(body).equals(Buffer.from(fits.data))).toBe(true);
    },
  },
  {
    id: 'reconnect',
    title:
      'reconnect: the connection is cut mid-stream → every publish that resolved is delivered; consumption resumes after the cut heals',
    notApplicable: (_, target) =>
      target.urlThroughProxy && target.upstream ? undefined : 'the target cannot be reached through a proxy',
    timeoutMs: 240_000,
    async run({ target, bus, defer, note }) {
      const proxy = await new TcpProxy(target.upstream!).start();
      defer(() => proxy.close());
      const b = await bus({ url: target.urlThroughProxy!(proxy) });
      const topic = uniqueName('reconnect');
      await b.provision(topic, { groups: ['g'] });
      const received = new Set<string>();
      const sub = b
        .consume(topic, { group: 'g' })
        .pipe(handle((event) => void received.add(event.id), { concurrency: 4 }))
        .subscribe();
      const resolved: string[] = [];
      let failed = 0;
      let healedAt = 0;
      for (let i = 0; i < 150; i++) {
        if (i === 50) {
          proxy.cut();
          setTimeout(() => {
            proxy.heal();
            healedAt = performance.now();
          }, 3_000);
        }
        try {
          const event = await withDeadline(b.publish(topic, { type: 'rc', data: i }), 60_000, `publish ${i}`);
          resolved.push(event.id);
        } catch (error) {
          if ((error as Error).message.includes('did not settle')) throw error;
          failed += 1;
        }
        if (i >= 50 && i < 60) await sleep(300);
      }
      note('publishRejected', failed);
      await until(
        () => resolved.every((id) => received.has(id)),
        120_000,
        `${resolved.filter((id) => !received.has(id)).length} resolved publishes not delivered`,
      );
      sub.unsubscribe();
      expect(healedAt).toBeGreaterThan(0);
      expect(resolved.length).toBeGreaterThanOrEqual(100);
    },
  },
  {
    id: 'silent-peer',
    title:
      'silent-peer connect timeout: a port that accepts TCP and never answers → connecting (or the first provision) fails within connectTimeoutMs (default 10 s) with a TransportError naming the address, no credentials',
    notApplicable: (_, target) =>
      target.urlThroughProxy ? undefined : 'the target cannot be given another address (no network)',
    timeoutMs: 90_000,
    async run({ target, defer, note }) {
      const peer = await silentPeer();
      defer(() => peer.close());
      const url = target.urlThroughProxy!(peer);
      const started = performance.now();
      const error = await (async () => {
        // Some transports connect lazily: the first operation is what meets the silent peer.
        const b = await target.connect({ url });
        defer(() => withDeadline(b.close({ drainTimeoutMs: 0 }), 15_000, 'close after a silent peer'));
        await b.provision(uniqueName('silent'), { groups: ['g'] });
      })().then(
        () => undefined,
        (e: unknown) => e,
      );
      const elapsedMs = Math.round(performance.now() - started);
      note('failedAfterMs', elapsedMs);
      expect(error, 'connecting to a silent peer must fail').toBeInstanceOf(TransportError);
      const message = (error as Error).message;
      expect(message).toContain(`127.0.0.1:${peer.port}`);
      const password = passwordOf(url);
      if (password) expect(message).not.toContain(password);
      // The default deadline plus the slack of a loaded machine: 30 s and more fails.
      expect(elapsedMs).toBeLessThan(15_000);
    },
  },
  {
    id: 'broker-restart',
    title: 'broker restart: 3 000 events with a restart at 1/3 → all delivered',
    notApplicable: (_, target) =>
      target.privateBroker ? undefined : 'the target launches no private broker that the case may restart',
    timeoutMs: 480_000,
    async run({ target, bus, defer, note }) {
      const broker = await target.privateBroker!();
      defer(() => broker.stop());
      const b = await bus({ url: broker.url });
      const topic = uniqueName('restart');
      await b.provision(topic, { groups: ['g'] });
      const received = new Set<string>();
      let receivedAtRestart = 0;
      const sub = b
        .consume(topic, { group: 'g' })
        .pipe(handle((event) => void received.add(event.id), { concurrency: 8 }))
        .subscribe();
      const ids: string[] = [];
      let restart: Promise<unknown> | undefined;
      let restartedAt = 0;
      const started = performance.now();
      for (let i = 0; i < 3_000; i += 50) {
        if (i === 1_000) {
          // Restart mid-stream, not before the member has even joined: it must resume, not start.
          await until(() => received.size > 0, 60_000, 'nothing was consumed before the restart');
          receivedAtRestart = received.size;
          restart = broker.restart().then((timing) => {
            restartedAt = performance.now();
            note('restart', timing);
          });
        }
        const batch = numbered(50).map((e, j) => ({
          ...e,
          data: { n: i + j, run: topic },
          id: `${topic}-${i + j}`,
        }));
        await publishPatiently(() => b.publishBatch(topic, batch), 180_000);
        ids.push(...batch.map((e) => e.id));
      }
      await restart;
      await until(
        () => ids.every((id) => received.has(id)),
        240_000,
        `${ids.filter((id) => !received.has(id)).length} of 3000 not delivered (${receivedAtRestart} had arrived when the restart began)`,
      );
      note('receivedBeforeRestart', receivedAtRestart);
      note('allDeliveredAfterRestartMs', Math.round(performance.now() - restartedAt));
      note('totalMs', Math.round(performance.now() - started));
      sub.unsubscribe();
    },
  },
];

/** The password in a URL's user info, if any (a URL like `kafka://a,b` may not parse: none then). */
function passwordOf(url: string): string | undefined {
  try {
    return decodeURIComponent(new URL(url).password) || undefined;
  } catch {
    return undefined;
  }
}
