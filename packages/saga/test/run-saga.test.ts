import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type Outcome, type SwitchyardEvent, type WireMessage } from '@switchyard/core';
import { describe, expect, it } from 'vitest';
import { memorySagaStore, runSaga, SagaConfigurationError, type SagaStep, saga } from '../src/index.ts';

type Events = { 'order.placed': { orderId: string }; 'order.paid': { orderId: string } };

const orders = saga<{ status: string }, Events>({
  name: 'orders',
  correlate: (e) => e.data.orderId,
  initial: { status: 'new' },
  startedBy: ['order.placed'],
  on: {
    'order.placed': (s, e, ctx) => {
      ctx.send('payments', { type: 'payment.charge', data: { orderId: e.data.orderId } });
      return { ...s, status: 'charging' };
    },
    'order.paid': (s, _e, ctx) => ctx.complete({ ...s, status: 'paid' }),
  },
});

async function setup() {
  const bus = await connect({ url: `memory://run-saga-${randomUUID()}`, source: 'test' });
  await bus.provision('orders', { groups: ['saga'] });
  await bus.provision('payments', { groups: ['check'] });
  const store = memorySagaStore();
  const outcomes: Outcome[] = [];
  const steps: SagaStep[] = [];
  const subscription = bus
    .consume('orders', { group: 'saga', from: 'earliest' })
    .pipe(runSaga(orders, { store, observe: (s) => steps.push(s), deadLetter: { topic: 'orders.dlq' } }))
    .subscribe((o) => outcomes.push(o));
  const payments: SwitchyardEvent[] = [];
  const watch = bus.consume('payments', { group: 'check', from: 'earliest' }).subscribe((d) => {
    if (d.event) payments.push(d.event);
    void d.ack();
  });
  const close = async () => {
    subscription.unsubscribe();
    watch.unsubscribe();
    await bus.close();
  };
  return { bus, store, outcomes, steps, payments, close };
}

async function until(condition: () => boolean, what: string) {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

describe('runSaga', () => {
  it('publishes a committed command on the retry when the first publish failed', async () => {
    const t = await setup();
    const publishWire = t.bus.publishWire.bind(t.bus);
    let failures = 0;
    t.bus.publishWire = (topic: string, messages: readonly WireMessage[]) => {
      if (topic === 'payments' && failures++ === 0) return Promise.reject(new Error('broker hiccup'));
      return publishWire(topic, messages);
    };
    await t.bus.publish('orders', { type: 'order.placed', data: { orderId: 'o-1' } });
    await until(() => t.outcomes.some((o) => o.kind === 'acked'), 'acked');
    await until(() => t.payments.length === 1, 'the charge command');
    expect(t.outcomes.map((o) => o.kind)).toEqual(['retrying', 'acked']);
    expect(t.steps.map((s) => s.result)).toEqual(['transitioned', 'duplicate']);
    await sleep(50);
    expect(t.payments.map((e) => e.type)).toEqual(['payment.charge']);
    await t.close();
  });

  it('ignores event types it has no transition for, and events for an instance not started', async () => {
    const t = await setup();
    await t.bus.publish('orders', { type: 'order.shipped', data: { orderId: 'o-2' } });
    await t.bus.publish('orders', { type: 'order.paid', data: { orderId: 'o-2' } });
    await until(() => t.outcomes.length === 2, '2 outcomes');
    expect(t.outcomes.map((o) => o.kind)).toEqual(['acked', 'acked']);
    expect(t.steps.map((s) => s.result)).toEqual(['notStarted']);
    expect(await t.store.load('orders', 'o-2')).toBeUndefined();
    await t.close();
  });

  it('dead-letters an event it cannot correlate, without retrying', async () => {
    const t = await setup();
    await t.bus.publish('orders', { type: 'order.placed', data: {} });
    await until(() => t.outcomes.length === 1, 'an outcome');
    expect(t.outcomes[0]!.kind).toBe('deadLettered');
    expect(t.outcomes[0]!.error?.message).toMatch(/no correlation id/);
    await t.close();
  });

  it('ignores every event after completion', async () => {
    const t = await setup();
    await t.bus.publish('orders', { type: 'order.placed', data: { orderId: 'o-3' } });
    await t.bus.publish('orders', { type: 'order.paid', data: { orderId: 'o-3' } });
    await t.bus.publish('orders', { type: 'order.placed', data: { orderId: 'o-3' } });
    await until(() => t.outcomes.length === 3, '3 outcomes');
    expect(t.steps.map((s) => s.result)).toEqual(['transitioned', 'transitioned', 'completed']);
    expect((await t.store.load<{ status: string }>('orders', 'o-3'))?.state.status).toBe('paid');
    expect(t.payments.length).toBe(1);
    await t.close();
  });

  it('rejects a schedule without a timeout topic as a configuration error', async () => {
    const bad = saga<object, { go: { id: string } }>({
      name: 'bad',
      correlate: (e) => e.data.id,
      initial: {},
      on: {
        go: (s, _e, ctx) => {
          ctx.schedule('later', { afterMs: 10 });
          return s;
        },
      },
    });
    const bus = await connect({ url: `memory://run-saga-${randomUUID()}`, source: 'test' });
    await bus.provision('in', { groups: ['g'] });
    const outcomes: Outcome[] = [];
    const sub = bus
      .consume('in', { group: 'g', from: 'earliest' })
      .pipe(runSaga(bad, { store: memorySagaStore(), deadLetter: { topic: 'in.dlq' } }))
      .subscribe((o) => outcomes.push(o));
    await bus.publish('in', { type: 'go', data: { id: 'x' } });
    await until(() => outcomes.length === 1, 'an outcome');
    expect(outcomes[0]!.kind).toBe('deadLettered');
    expect(outcomes[0]!.error).toBeInstanceOf(SagaConfigurationError);
    sub.unsubscribe();
    await bus.close();
  });

  it('refuses a bad definition at once', () => {
    expect(() => saga({ name: 'has space', correlate: () => 'x', initial: {}, on: {} })).toThrow(
      SagaConfigurationError,
    );
  });
});
