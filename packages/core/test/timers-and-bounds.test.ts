// Bounds and clocks of the consume path: what the synchronous fast paths must not lose.
import { afterEach, expect, it, vi } from 'vitest';
import { Bus, createEvent, HandlerTimeoutError, handle, MemoryTransport, withTimeout } from '../src/index.ts';
import { settlingBound } from '../src/policies/key-ordered.ts';
import { encode } from '../src/transport-api.ts';
import { busHolding, wrappedTransport } from './helpers.ts';

afterEach(() => vi.useRealTimers());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it('a handler that blocks before it awaits has used part of its timeout', async () => {
  const outcome = await withTimeout(() => {
    const end = performance.now() + 150;
    while (performance.now() < end) {}
    return sleep(150).then(() => 'done');
  }, 200).catch((error: unknown) => error);
  expect(outcome).toBeInstanceOf(HandlerTimeoutError);
});

it('handle(): the timeout counts the synchronous part of the handler too', async () => {
  const bus = await busHolding({ type: 't', data: 1 });
  const kinds: string[] = [];
  const sub = bus
    .consume('orders', { group: 'g' })
    .pipe(
      handle(
        () => {
          const end = performance.now() + 150;
          while (performance.now() < end) {}
          return sleep(150);
        },
        { timeoutMs: 200, retry: { maxAttempts: 1 } },
      ),
    )
    .subscribe((outcome) => kinds.push(outcome.kind));
  while (kinds.length === 0) await sleep(10);
  sub.unsubscribe();
  await bus.close();
  expect(kinds[0]).not.toBe('acked');
});

it('timeouts fire under a test that fakes only setTimeout', async () => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  const caught = withTimeout(() => new Promise(() => {}), 1_000).catch((error: unknown) => error);
  await vi.advanceTimersByTimeAsync(5_000);
  const settled = await Promise.race([caught, new Promise((r) => setImmediate(() => r('pending')))]);
  expect(settled).toBeInstanceOf(HandlerTimeoutError);
});

it('memory:// redelivers a delayed nack under a test that fakes only setTimeout', async () => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  const transport = new MemoryTransport(`fk-${Math.random()}`);
  await transport.provision('q');
  await transport.provision('q', 'g');
  const attempts: number[] = [];
  const sub = transport.subscribe('q', { group: 'g', prefetch: 1 }).subscribe((delivery) => {
    attempts.push(delivery.attempt);
    if (delivery.attempt === 1) void delivery.nack({ delayMs: 1_000 });
    else void delivery.ack();
  });
  await transport.publish('q', [encode(createEvent({ type: 't', data: 1 }, 's'))]);
  await vi.advanceTimersByTimeAsync(5_000);
  sub.unsubscribe();
  await transport.close();
  expect(attempts).toEqual([1, 2]);
});

it('acks still awaiting the broker hold intake back (a transport that frees prefetch at ack())', async () => {
  // Like NATS: the delivery leaves the transport's prefetch window when ack() is called, and the
  // ack promise resolves only when the server confirms it.
  let pending = 0;
  let peak = 0;
  const transport = wrappedTransport(`slow-${Math.random()}`, (raw) => {
    let settled: Promise<void> | undefined;
    return {
      message: raw.message,
      attempt: raw.attempt,
      ack: () => {
        settled ??= raw.ack().then(() => {
          pending += 1;
          peak = Math.max(peak, pending);
          return sleep(50).then(() => {
            pending -= 1;
          });
        });
        return settled;
      },
      nack: (options) => (settled ??= raw.nack(options)),
    };
  });
  const bus = new Bus(transport, { source: 't' });
  await bus.provision('orders', { groups: ['g'] });
  const total = 200;
  await bus.publishBatch(
    'orders',
    Array.from({ length: total }, (_, i) => ({ type: 't', data: i, key: `k${i}` })),
  );
  let outcomes = 0;
  let peakUnsettled = 0;
  const sub = bus
    .consume('orders', { group: 'g', prefetch: 32 })
    .pipe(handle(() => undefined, { concurrency: 4 }))
    .subscribe(() => {
      outcomes += 1;
      peakUnsettled = Math.max(peakUnsettled, bus.unsettled);
    });
  while (outcomes < total) await sleep(10);
  sub.unsubscribe();
  await bus.close();
  // Unbounded, every one of the 200 would be waiting for its ack at once. handle() lets as many
  // settles wait as the subscription's prefetch (at least settlingBound(concurrency)).
  const bound = Math.max(settlingBound(4), 32);
  expect(peak).toBeLessThanOrEqual(bound);
  expect(peakUnsettled).toBeLessThanOrEqual(32 + bound);
});

it('unsubscribing from inside next() on a retrying outcome gives the delivery back', async () => {
  const bus = await busHolding({ type: 't', data: 1, key: 'k' });
  const kinds: string[] = [];
  const sub = bus
    .consume('orders', { group: 'g' })
    .pipe(
      handle(
        () => {
          throw new Error('boom');
        },
        { retry: { maxAttempts: 3, backoff: () => 50 } },
      ),
    )
    .subscribe((outcome) => {
      kinds.push(outcome.kind);
      if (outcome.kind === 'retrying') sub.unsubscribe();
    });
  await sleep(100);
  expect(kinds).toEqual(['retrying']);
  expect(bus.unsettled).toBe(0);
  const started = performance.now();
  await bus.close({ drainTimeoutMs: 2_000 });
  expect(performance.now() - started).toBeLessThan(1_000);
});
