import { AsyncLocalStorage } from 'node:async_hooks';
import { firstValueFrom, take, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { connect } from '../src/connect.ts';
import type { Delivery } from '../src/delivery.ts';
import type { Instrumentation } from '../src/ops/instrumentation.ts';
import { handle } from '../src/policies/handle.ts';
import type { Outcome } from '../src/policies/outcome.ts';
import type { WireMessage } from '../src/transport.ts';
import { uniqueName, waitFor } from './helpers.ts';

/** An instrumentation that writes a header, keeps an AsyncLocalStorage scope per delivery and records everything. */
function recorder() {
  const scope = new AsyncLocalStorage<string>();
  const log: string[] = [];
  const sends: Array<{ topic: string; messages: readonly WireMessage[]; scope: string | undefined }> = [];
  const instrumentation: Instrumentation = {
    send(topic, messages) {
      sends.push({ topic, messages, scope: scope.getStore() });
      log.push(`send ${topic} in ${scope.getStore() ?? '-'}`);
      return {
        messages: messages.map((m) => ({
          ...m,
          headers: { ...m.headers, traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01` },
        })),
        end: (error) => log.push(`sent ${topic}${error ? ` failed: ${(error as Error).message}` : ''}`),
      };
    },
    process(delivery: Delivery) {
      const name = `process ${delivery.event?.id ?? 'invalid'}`;
      log.push(name);
      return {
        attempt: (attempt, run) => {
          log.push(`${name}: attempt ${attempt}`);
          return scope.run(name, () => run(delivery, attempt));
        },
        outcome: (o: Outcome) =>
          log.push(`${name}: outcome ${o.kind}${o.delivery.settled ? ' settled' : ''}`),
      };
    },
  };
  return { instrumentation, log, sends, scope };
}

describe('bus.instrument()', () => {
  it('lets the instrumentation rewrite headers on publish; the returned event and the consumer see them', async () => {
    const bus = await connect({ url: `memory://${uniqueName('instr')}`, source: 'test' });
    await bus.provision('orders', { groups: ['billing'] });
    const { instrumentation, log } = recorder();
    bus.instrument(instrumentation);
    const sent = await bus.publish('orders', { type: 'order', data: { n: 1 } });
    expect(sent.traceparent).toBe(`00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`);
    const delivery = await firstValueFrom(bus.consume('orders', { group: 'billing', from: 'earliest' }));
    expect(delivery.event?.traceparent).toBe(sent.traceparent);
    expect(log).toEqual(['send orders in -', 'sent orders']);
    await delivery.ack();
    // Removed: nothing is told any more.
    bus.instrument(undefined);
    const plain = await bus.publish('orders', { type: 'order', data: { n: 2 } });
    expect(plain.traceparent).toBeUndefined();
    expect(log).toHaveLength(2);
    await bus.close();
  });

  it('tells a failed send, also one refused before the broker', async () => {
    const bus = await connect({ url: `memory://${uniqueName('instr')}`, source: 'test' });
    const { instrumentation, log } = recorder();
    bus.instrument(instrumentation);
    const big = new Uint8Array(bus.transport.capabilities.maxMessageBytes + 1);
    await expect(bus.publish('orders', { type: 'order', data: big })).rejects.toThrow(/accepts at most/);
    expect(log.at(-1)).toMatch(/^sent orders failed: /);
    await bus.close();
  });

  it('runs each attempt through the Processing, dead-letters inside its scope, and ends with the last outcome', async () => {
    const bus = await connect({ url: `memory://${uniqueName('instr')}`, source: 'test' });
    await bus.provision('orders', { groups: ['billing'] });
    await bus.provision('orders.billing.dlq', { groups: ['ops'] });
    const { instrumentation, log, sends, scope } = recorder();
    bus.instrument(instrumentation);
    const seen: Array<string | undefined> = [];
    const outcomes = firstValueFrom(
      bus.consume<{ n: number }>('orders', { group: 'billing', from: 'earliest' }).pipe(
        handle(
          async (event) => {
            seen.push(scope.getStore());
            await Promise.resolve();
            if (event.data.n === 2) throw new Error('boom');
          },
          { retry: { maxAttempts: 2, backoff: () => 1 } },
        ),
        take(3),
        toArray(),
      ),
    );
    const ok = await bus.publish('orders', { type: 'order', id: 'ok', data: { n: 1 }, key: 'k' });
    await bus.publish('orders', { type: 'order', id: 'bad', data: { n: 2 }, key: 'k' });
    expect((await outcomes).map((o) => o.kind)).toEqual(['acked', 'retrying', 'deadLettered']);
    expect(seen).toEqual(['process ok', 'process bad', 'process bad']);
    // The dead letter was sent from the failed delivery's scope (an async failure: a continuation).
    const dlq = sends.find((s) => s.topic === 'orders.billing.dlq')!;
    expect(dlq.scope).toBe('process bad');
    expect(dlq.messages[0]!.headers.deadletterreason).toBe('2 attempts failed; last: boom');
    await waitFor(() => log.includes('process bad: outcome deadLettered settled'));
    const of = (id: string) => log.filter((line) => line.startsWith(`process ${id}`));
    expect(of('ok')).toEqual(['process ok', 'process ok: attempt 1', 'process ok: outcome acked settled']);
    expect(of('bad')).toEqual([
      'process bad',
      'process bad: attempt 1',
      'process bad: outcome retrying',
      'process bad: attempt 2',
      'process bad: outcome deadLettered settled',
    ]);
    expect(ok.id).toBe('ok');
    await bus.close();
  });

  it('rejects an invalid delivery inside its Processing', async () => {
    const bus = await connect({ url: `memory://${uniqueName('instr')}`, source: 'test' });
    await bus.provision('orders', { groups: ['billing'] });
    await bus.provision('orders.billing.dlq', { groups: ['ops'] });
    const { instrumentation, log, sends } = recorder();
    bus.instrument(instrumentation);
    const outcome = firstValueFrom(
      bus.consume('orders', { group: 'billing', from: 'earliest' }).pipe(handle(() => {})),
    );
    await bus.publishWire('orders', [{ headers: { nonsense: 'x' }, body: new Uint8Array(0) }]);
    expect((await outcome).kind).toBe('rejected');
    expect(sends.find((s) => s.topic === 'orders.billing.dlq')?.scope).toBe('process invalid');
    await waitFor(() => log.includes('process invalid: outcome rejected settled'));
    await bus.close();
  });
});
