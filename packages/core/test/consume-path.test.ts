// The consume path's cheap ways (synchronous steps, shared deadline timers, the slot freed before the
// settle) must not change what a user sees: order, settle-once, outcomes, drain.
import { Observable, type Subscription } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { Bus } from '../src/bus.ts';
import { HandlerTimeoutError } from '../src/errors.ts';
import { memoryIdempotencyStore } from '../src/idempotency/memory-store.ts';
import type { IdempotencyStore } from '../src/idempotency/store.ts';
import { MemoryTransport } from '../src/memory/transport.ts';
import { type HandleOptions, type Handler, handle } from '../src/policies/handle.ts';
import type { Outcome } from '../src/policies/outcome.ts';
import type { StandardSchemaV1 } from '../src/schemas.ts';
import type { Transport, TransportDelivery } from '../src/transport.ts';
import { type Deferred, deferred, uniqueName, waitFor, wrappedTransport } from './helpers.ts';

const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

/** A bus whose deliveries can be made to settle slowly or fail to settle. */
function wrappedTransportBus(wrap: (raw: TransportDelivery) => TransportDelivery) {
  return new Bus(wrappedTransport(uniqueName('path'), wrap), { source: 'test' });
}

describe('the consume path', () => {
  let cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanup.reverse()) await c();
    cleanup = [];
  });

  async function start<T>(bus: Bus, handler: Handler<T>, options: HandleOptions) {
    await bus.provision('orders', { groups: ['g'] });
    await bus.provision('orders.dlq', { groups: ['ops'] });
    const outcomes: Outcome<T>[] = [];
    const subscription: Subscription = bus
      .consume<T>('orders', { group: 'g' })
      .pipe(handle(handler, { deadLetter: { topic: 'orders.dlq' }, ...options }))
      .subscribe((o) => outcomes.push(o));
    cleanup.push(async () => {
      subscription.unsubscribe();
      await bus.close({ drainTimeoutMs: 1_000 });
    });
    return { outcomes, subscription };
  }

  it('sets no timer for a synchronous handler, and one shared timer for 16 asynchronous ones', async () => {
    const bus = wrappedTransportBus((raw) => raw);
    const baseline = timers();
    const during: number[] = [];
    let gate = deferred();
    let inFlight = 0;
    const { outcomes } = await start<number>(
      bus,
      (event) => {
        during.push(timers());
        if (event.data < 100) return; // synchronous
        inFlight += 1;
        return gate.promise.then(() => {
          inFlight -= 1;
        });
      },
      { concurrency: 16, timeoutMs: 60_000 },
    );
    await bus.publishBatch(
      'orders',
      Array.from({ length: 50 }, (_, i) => ({ type: 't', data: i, key: `k${i}` })),
    );
    // Waiting by setImmediate, not waitFor: waitFor's own polling timer would be counted by a
    // handler that runs in a later turn (the bus hands on in slices).
    for (let turn = 0; outcomes.length < 50 && turn < 100_000; turn++) {
      await new Promise((r) => setImmediate(r));
    }
    expect(outcomes).toHaveLength(50);
    expect(during.every((n) => n <= baseline)).toBe(true);

    await bus.publishBatch(
      'orders',
      Array.from({ length: 16 }, (_, i) => ({ type: 't', data: 100 + i, key: `k${i}` })),
    );
    cleanup.push(() => gate.resolve());
    await waitFor(() => inFlight === 16, '16 asynchronous handlers running');
    expect(timers()).toBeLessThanOrEqual(baseline + 1);
    gate.resolve();
    gate = deferred();
    await waitFor(() => outcomes.length === 66, 'all acked');
    expect(outcomes.every((o) => o.kind === 'acked')).toBe(true);
    expect(timers()).toBeLessThanOrEqual(baseline);
  });

  it('frees the slot once the handler finished; the outcome follows the ack, and close() waits for it', async () => {
    const acks: Deferred[] = [];
    const calls: string[] = [];
    const bus = wrappedTransportBus((raw) => ({
      message: raw.message,
      attempt: raw.attempt,
      ack: () => {
        calls.push('ack');
        const slow = deferred();
        acks.push(slow);
        return slow.promise.then(() => raw.ack());
      },
      nack: (o) => {
        calls.push('nack');
        return raw.nack(o);
      },
    }));
    const handled: number[] = [];
    const { outcomes } = await start<number>(
      bus,
      (event) => {
        handled.push(event.data);
      },
      { concurrency: 1 },
    );
    // Should an expectation fail, let the acks finish so cleanup's close() does not wait for ever.
    cleanup.push(() => {
      for (const slow of acks) slow.resolve();
    });
    await bus.publishBatch(
      'orders',
      [0, 1, 2].map((n) => ({ type: 't', data: n, key: `k${n}` })),
    );
    // Concurrency 1, and no ack has finished: all three handlers ran all the same.
    await waitFor(() => handled.length === 3, 'three handled', 3_000);
    expect(acks).toHaveLength(3);
    expect(outcomes).toEqual([]);
    expect(bus.unsettled).toBe(3);

    let closed = false;
    const closing = bus.close({ drainTimeoutMs: 10_000 }).then(() => {
      closed = true;
    });
    acks[1]!.resolve();
    await waitFor(() => outcomes.length === 1, 'one outcome');
    expect(outcomes.map((o) => [o.kind, o.event?.data])).toEqual([['acked', 1]]);
    await new Promise((r) => setTimeout(r, 20));
    expect(closed).toBe(false);
    acks[0]!.resolve();
    acks[2]!.resolve();
    await closing;
    expect(outcomes.map((o) => o.kind)).toEqual(['acked', 'acked', 'acked']);
    expect(calls).toEqual(['ack', 'ack', 'ack']);
    expect(bus.unsettled).toBe(0);
  });

  it('lets as many acks wait for a commit as the prefetch allows, then holds handlers back', async () => {
    // Like Kafka: an ack resolves when the offset commit does, and commits come one at a time.
    let commit = deferred();
    const bus = wrappedTransportBus((raw) => ({
      message: raw.message,
      attempt: raw.attempt,
      ack: () => commit.promise.then(() => raw.ack()),
      nack: (o) => raw.nack(o),
    }));
    await bus.provision('orders', { groups: ['g'] });
    const handled: number[] = [];
    const outcomes: Outcome<number>[] = [];
    const subscription = bus
      .consume<number>('orders', { group: 'g', prefetch: 64 })
      .pipe(handle((event) => void handled.push(event.data), { concurrency: 2 }))
      .subscribe((o) => outcomes.push(o));
    cleanup.push(async () => {
      commit.resolve();
      subscription.unsubscribe();
      await bus.close({ drainTimeoutMs: 1_000 });
    });
    await bus.publishBatch(
      'orders',
      Array.from({ length: 100 }, (_, i) => ({ type: 't', data: i, key: `k${i}` })),
    );
    // Concurrency 2, yet all 64 the transport handed out ran while their acks waited; no more.
    await waitFor(() => handled.length === 64, '64 handled');
    await new Promise((r) => setTimeout(r, 20));
    expect(handled).toHaveLength(64);
    expect(outcomes).toEqual([]);
    const first = commit;
    commit = deferred();
    first.resolve();
    await waitFor(() => handled.length === 100, 'the rest handled after the commit');
    commit.resolve();
    await waitFor(() => outcomes.length === 100, 'all acked');
    expect(outcomes.every((o) => o.kind === 'acked')).toBe(true);
  });

  it('reports released, and settles once, when the ack fails', async () => {
    const calls: number[] = [];
    const bus = wrappedTransportBus((raw) => ({
      message: raw.message,
      attempt: raw.attempt,
      ack: () => {
        calls.push(1);
        return Promise.reject(new Error('connection lost'));
      },
      nack: (o) => raw.nack(o),
    }));
    const { outcomes } = await start<number>(bus, () => {}, { concurrency: 4 });
    await bus.publishBatch(
      'orders',
      [0, 1].map((n) => ({ type: 't', data: n })),
    );
    await waitFor(() => outcomes.length === 2, 'two outcomes');
    expect(outcomes.map((o) => [o.kind, o.error?.message])).toEqual([
      ['released', 'connection lost'],
      ['released', 'connection lost'],
    ]);
    expect(calls).toEqual([1, 1]);
  });

  it('never settles a delivery from inside the transport emitting it', async () => {
    let emitting = false;
    const reentered: string[] = [];
    const inner = new MemoryTransport(uniqueName('path'));
    const transport: Transport = {
      name: inner.name,
      capabilities: inner.capabilities,
      publish: (topic, messages) => inner.publish(topic, messages),
      provision: (topic, group, from) => inner.provision(topic, group, from),
      close: () => inner.close(),
      subscribe: (topic, options) =>
        new Observable<TransportDelivery>((subscriber) =>
          inner.subscribe(topic, options).subscribe((raw) => {
            emitting = true;
            subscriber.next({
              message: raw.message,
              attempt: raw.attempt,
              ack: () => {
                if (emitting) reentered.push('ack');
                return raw.ack();
              },
              nack: (o) => {
                if (emitting) reentered.push('nack');
                return raw.nack(o);
              },
            });
            emitting = false;
          }),
        ),
    };
    const bus = new Bus(transport, { source: 'test' });
    const { outcomes } = await start<number>(bus, () => {}, { concurrency: 8 });
    await bus.publishBatch(
      'orders',
      Array.from({ length: 300 }, (_, i) => ({ type: 't', data: i, key: `k${i % 7}` })),
    );
    await waitFor(() => outcomes.length === 300, 'all acked');
    expect(reentered).toEqual([]);
  });

  it('hands deliveries on in broker order when an asynchronous schema checks some of them', async () => {
    const bus = wrappedTransportBus((raw) => raw);
    const slow: StandardSchemaV1 = {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: (value) =>
          new Promise((resolve) => setTimeout(() => resolve({ value }), 5 + Math.random() * 10)),
      },
    };
    bus.schemas.register('slow', slow);
    const seen: number[] = [];
    const { outcomes } = await start<number>(
      bus,
      (event) => {
        seen.push(event.data);
      },
      { concurrency: 1 },
    );
    const events = Array.from({ length: 40 }, (_, i) => ({ type: i % 3 === 0 ? 'slow' : 'fast', data: i }));
    await bus.publishBatch('orders', events);
    await waitFor(() => outcomes.length === 40, 'all acked');
    expect(seen).toEqual(events.map((e) => e.data));
  });

  it('de-duplicates with a store that answers only asynchronously, as with one that answers at once', async () => {
    const memory = memoryIdempotencyStore();
    const asyncOnly: IdempotencyStore = {
      claim: (key, token, leaseMs) =>
        new Promise((r) => setImmediate(() => r(memory.sync.claim(key, token, leaseMs)))),
      renew: (key, token, leaseMs) =>
        new Promise((r) => setImmediate(() => r(memory.sync.renew(key, token, leaseMs)))),
      complete: (key, token, ttlMs) =>
        new Promise((r) => setImmediate(() => r(memory.sync.complete(key, token, ttlMs)))),
      release: (key, token) => new Promise((r) => setImmediate(() => r(memory.sync.release(key, token)))),
    };
    for (const store of [asyncOnly, memoryIdempotencyStore()]) {
      const bus = wrappedTransportBus((raw) => raw);
      let calls = 0;
      let fail = true;
      const { outcomes } = await start(
        bus,
        () => {
          calls += 1;
          if (fail) {
            fail = false;
            throw new Error('first attempt fails');
          }
        },
        { idempotency: { store }, retry: { maxAttempts: 3, backoff: () => 1 } },
      );
      await bus.publish('orders', { type: 't', id: 'same', data: 1, key: 'k' });
      await bus.publish('orders', { type: 't', id: 'same', data: 1, key: 'k' });
      await waitFor(() => outcomes.filter((o) => o.kind !== 'retrying').length === 2, 'two finals');
      expect(calls).toBe(2);
      expect(outcomes.map((o) => o.kind)).toEqual(['retrying', 'acked', 'duplicate']);
    }
  });

  it('gives a context whose publish may be destructured and whose signal, read late, tells of the timeout', async () => {
    const bus = wrappedTransportBus((raw) => raw);
    await bus.provision('payments', { groups: ['audit'] });
    const signals: boolean[] = [];
    const { outcomes } = await start<number>(
      bus,
      async (_event, context) => {
        const { publish } = context;
        await publish('payments', { type: 'p', data: 1 });
        await new Promise((r) => setTimeout(r, 60));
        signals.push(context.signal.aborted);
        signals.push(context.signal.reason instanceof HandlerTimeoutError);
      },
      { timeoutMs: 20, retry: { maxAttempts: 1 } },
    );
    await bus.publish('orders', { type: 't', data: 1 });
    await waitFor(() => signals.length === 2, 'the handler looked at its signal');
    expect(signals).toEqual([true, true]);
    expect(outcomes.map((o) => o.kind)).toEqual(['deadLettered']);
    expect(outcomes[0]!.error).toBeInstanceOf(HandlerTimeoutError);
  });
});
