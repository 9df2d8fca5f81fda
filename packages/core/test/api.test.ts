// The snippets of shared/API.md, run as written on memory://.
import { firstValueFrom, take, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  connect,
  exponentialBackoff,
  handle,
  memoryIdempotencyStore,
  type Outcome,
  SchemaValidationError,
  TransportNotInstalledError,
} from '../src/index.ts';

interface OrderPlaced {
  orderId: string;
  total: number;
}

describe('API.md on memory://', () => {
  it('publishes, consumes, retries, dead-letters and de-duplicates', async () => {
    const bus = await connect({ url: 'memory://api-1', source: 'billing-service' });
    await bus.provision('orders', { groups: ['billing'] });
    await bus.provision('orders.billing.dlq', { groups: ['ops'] });
    await bus.provision('payments', { groups: ['audit'] });

    const seen: string[] = [];
    let failures = 0;
    const outcomes: Outcome<OrderPlaced>[] = [];
    const outcomes$ = bus.consume<OrderPlaced>('orders', { group: 'billing' }).pipe(
      handle(
        async (event, ctx) => {
          if (event.data.orderId === 'o-flaky' && failures++ < 1) throw new Error('card network down');
          if (event.data.orderId === 'o-bad') throw new Error('always fails');
          seen.push(event.data.orderId);
          await ctx.publish('payments', {
            type: 'com.acme.payment.captured',
            data: { orderId: event.data.orderId },
            key: event.key,
          });
        },
        {
          concurrency: 16,
          timeoutMs: 30_000,
          retry: {
            maxAttempts: 3,
            backoff: exponentialBackoff({ initialMs: 10, maxMs: 100, jitter: 'full' }),
          },
          deadLetter: { topic: 'orders.billing.dlq' },
          idempotency: { store: memoryIdempotencyStore({ ttlMs: 86_400_000 }) },
        },
      ),
    );
    const subscription = outcomes$.subscribe((o) => outcomes.push(o));

    const placed = await bus.publish('orders', {
      type: 'com.acme.order.placed',
      data: { orderId: 'o-42', total: 99.5 },
      key: 'o-42',
      subject: 'o-42',
    });
    await bus.publishBatch('orders', [
      { type: 'com.acme.order.placed', data: { orderId: 'o-flaky', total: 1 }, key: 'o-flaky' },
      { type: 'com.acme.order.placed', data: { orderId: 'o-bad', total: 2 }, key: 'o-bad' },
      { type: 'com.acme.order.placed', id: placed.id, data: { orderId: 'o-42', total: 99.5 }, key: 'o-42' },
    ]);
    const payments = await firstValueFrom(
      bus.consume('payments', { group: 'audit', from: 'earliest' }).pipe(take(2), toArray()),
    );
    const dead = await firstValueFrom(bus.consume('orders.billing.dlq', { group: 'ops' }).pipe(take(1)));

    expect(seen.sort()).toEqual(['o-42', 'o-flaky']);
    expect(outcomes.filter((o) => o.kind === 'duplicate')).toHaveLength(1);
    expect(
      outcomes
        .filter((o) => o.kind === 'retrying')
        .map((o) => o.event?.data.orderId)
        .sort(),
    ).toEqual(['o-bad', 'o-bad', 'o-flaky']);
    expect(dead.event?.id).toBeDefined();
    expect(dead.event?.extensions).toMatchObject({
      deadletterattempts: '3',
      deadlettertopic: 'orders',
      deadlettergroup: 'billing',
    });
    expect(dead.event?.extensions.deadletterreason).toContain('always fails');
    const payment = payments.find(
      (p) => p.event?.data && (p.event.data as { orderId: string }).orderId === 'o-42',
    )!;
    expect(payment.event?.causationid).toBe(placed.id);
    expect(payment.event?.correlationid).toBe(placed.correlationid);
    expect(placed.correlationid).toBe(placed.id);

    subscription.unsubscribe();
    await bus.close({ drainTimeoutMs: 1_000 });
  });

  it('rejects an event that fails its schema before anything is sent', async () => {
    const bus = await connect({ url: 'memory://api-2', source: 'billing-service' });
    bus.schemas.register('com.acme.order.placed', z.object({ orderId: z.string(), total: z.number() }));
    await expect(
      bus.publish('orders', { type: 'com.acme.order.placed', data: { orderId: 1 } }),
    ).rejects.toBeInstanceOf(SchemaValidationError);
    await bus.close();
  });

  it('names the package to install for a transport that is not installed', async () => {
    await expect(
      connect({ url: 'nats://127.0.0.1:1', source: 'x' }).catch((e) => {
        // In this workspace the NATS package exists; any other outcome than a typed error or a connect failure is a bug.
        if (e instanceof TransportNotInstalledError) expect(e.packageName).toBe('@switchyard/nats');
        throw e;
      }),
    ).rejects.toBeDefined();
  });
});
