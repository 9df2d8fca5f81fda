// The checkout process manager: one state machine per order that owns the flow. It reacts to the
// services' events, sends them commands, waits for the payment with a durable timeout, and undoes
// the stock reservation (compensation) when the payment fails or never comes.
//
//   OrderPlaced          → ReserveStock
//   InventoryReserved    → ChargePayment, arm payment-timeout
//   InventoryOutOfStock  → CancelOrder                                  (end)
//   PaymentCaptured      → disarm the timeout, ConfirmOrder             (end)
//   PaymentFailed        → disarm the timeout, ReleaseStock              (compensation)
//   payment-timeout      → ReleaseStock                                  (compensation)
//   InventoryReleased    → CancelOrder                                  (end)
import { connect, type Outcome } from '@switchyard/core';
import { runSaga, type SagaStep, saga, sagaTimeouts, type TimeoutData } from '@switchyard/saga';
import { merge } from 'rxjs';
import {
  type CancelOrder,
  type ChargePayment,
  CommandTypes,
  type ConfirmOrder,
  EventTypes,
  type InventoryOutOfStock,
  type OrderPlaced,
  type PaymentCaptured,
  type PaymentFailed,
  type ReleaseStock,
  type ReserveStock,
  registerSchemas,
  TimerTypes,
  type Topics,
} from './events.ts';
import { brokerUrl, policies, type Service, type ServiceOptions } from './service.ts';
import type { Storage } from './storage.ts';

export interface Checkout {
  readonly orderId: string;
  readonly step: 'reserving' | 'charging' | 'releasing' | 'confirmed' | 'cancelled';
  readonly order: OrderPlaced;
  /** Why the stock is being released (the order is cancelled with it). */
  readonly reason?: string;
}

type CheckoutEvents = {
  [EventTypes.OrderPlaced]: OrderPlaced;
  [EventTypes.InventoryReserved]: unknown;
  [EventTypes.InventoryOutOfStock]: InventoryOutOfStock;
  [EventTypes.InventoryReleased]: unknown;
  [EventTypes.PaymentCaptured]: PaymentCaptured;
  [EventTypes.PaymentFailed]: PaymentFailed;
  [TimerTypes.PaymentTimeout]: TimeoutData;
};

const TIMER = TimerTypes.PaymentTimeout;

/** The checkout saga. `paymentTimeoutMs`: how long a payment may take before the order is given up. */
export function checkoutSaga(topics: Topics, paymentTimeoutMs: number) {
  const releaseStock = (orderId: string, reason: string) => ({
    topic: topics.inventoryCommands,
    type: CommandTypes.ReleaseStock,
    data: { orderId, reason } satisfies ReleaseStock,
    // For the timeline: this command undoes the reservation.
    extensions: { compensates: 'ReserveStock' },
  });

  return saga<Checkout, CheckoutEvents>({
    name: 'checkout',
    correlate: (event) => (event.data as { orderId?: string } | undefined)?.orderId,
    initial: (event) => ({
      orderId: (event.data as OrderPlaced).orderId,
      step: 'reserving',
      order: event.data as OrderPlaced,
    }),
    startedBy: [EventTypes.OrderPlaced],
    on: {
      [EventTypes.OrderPlaced]: (state, event, ctx) => {
        if (state.step !== 'reserving') return state;
        const { orderId, items } = event.data;
        ctx.send<ReserveStock>(topics.inventoryCommands, {
          type: CommandTypes.ReserveStock,
          data: { orderId, items },
        });
        return state;
      },
      [EventTypes.InventoryReserved]: (state, _event, ctx) => {
        if (state.step !== 'reserving') return state;
        const { orderId, total: amount, paymentToken } = state.order;
        ctx.send<ChargePayment>(topics.paymentCommands, {
          type: CommandTypes.ChargePayment,
          data: { orderId, amount, paymentToken },
        });
        ctx.schedule(TIMER, { afterMs: paymentTimeoutMs });
        return { ...state, step: 'charging' };
      },
      [EventTypes.InventoryOutOfStock]: (state, event, ctx) => {
        const { orderId, sku, requested } = event.data;
        const reason = `out of stock: ${sku} x${requested}`;
        ctx.send<CancelOrder>(topics.orderCommands, {
          type: CommandTypes.CancelOrder,
          data: { orderId, reason },
        });
        return ctx.complete({ ...state, step: 'cancelled', reason });
      },
      [EventTypes.PaymentCaptured]: (state, event, ctx) => {
        // Too late (the timeout gave the order up): a real checkout would refund here.
        if (state.step !== 'charging') return state;
        ctx.cancel(TIMER);
        ctx.send<ConfirmOrder>(topics.orderCommands, {
          type: CommandTypes.ConfirmOrder,
          data: { orderId: state.orderId, paymentId: event.data.paymentId },
        });
        return ctx.complete({ ...state, step: 'confirmed' });
      },
      [EventTypes.PaymentFailed]: (state, event, ctx) => {
        if (state.step !== 'charging') return state;
        const reason = `payment failed: ${event.data.reason}`;
        ctx.cancel(TIMER);
        // The steps that completed, in the order they did; their undos go out in reverse.
        ctx.compensate([releaseStock(state.orderId, reason)]);
        return { ...state, step: 'releasing', reason };
      },
      [TIMER]: (state, _event, ctx) => {
        // Only an armed timer arrives here: a cancelled or replaced one is dropped as stale.
        const reason = 'payment timed out';
        ctx.compensate([releaseStock(state.orderId, reason)]);
        return { ...state, step: 'releasing', reason };
      },
      [EventTypes.InventoryReleased]: (state, _event, ctx) => {
        if (state.step !== 'releasing') return state;
        const reason = state.reason ?? 'stock released';
        ctx.send<CancelOrder>(topics.orderCommands, {
          type: CommandTypes.CancelOrder,
          data: { orderId: state.orderId, reason },
        });
        return ctx.complete({ ...state, step: 'cancelled', reason });
      },
    },
  });
}

export interface CheckoutOptions extends ServiceOptions {
  readonly storage: Storage;
  readonly paymentTimeoutMs: number;
  /** Every event the saga took, and what it did with it (duplicate, stale timeout...). */
  readonly onStep?: (step: SagaStep<Checkout>) => void;
}

/**
 * The process manager as a service: it consumes the three services' events and its own topic
 * (where its timeouts arrive) in one group, runs them through runSaga (one order's events in
 * order, several orders at once), and polls the store for due timers.
 */
export async function startCheckout(options: CheckoutOptions): Promise<Service> {
  const { topics, storage } = options;
  const bus = await connect({ url: brokerUrl(options), source: 'checkout' });
  registerSchemas(bus);
  const consumed = [topics.orders, topics.inventory, topics.payments, topics.checkout];
  for (const topic of consumed) await bus.provision(topic, { groups: ['checkout'] });
  for (const topic of [topics.orderCommands, topics.inventoryCommands, topics.paymentCommands]) {
    await bus.provision(topic);
  }

  // The shared policy, but the saga's own retry (a version conflict is retried soon and often) and
  // no idempotency store: the saga store keeps the handled event ids with the state.
  const { retry: _retry, ...policy } = policies(topics, undefined);
  const outcomes$ = merge(...consumed.map((topic) => bus.consume(topic, { group: 'checkout' }))).pipe(
    runSaga(checkoutSaga(topics, options.paymentTimeoutMs), {
      ...policy,
      store: storage.sagas,
      timeoutTopic: topics.checkout,
      ...(options.onStep ? { observe: options.onStep } : {}),
    }),
  );
  const subscription = outcomes$.subscribe({
    next: (outcome: Outcome) => options.onOutcome?.('checkout', outcome),
    error: (error: Error) => options.onError?.('checkout', error),
  });
  // Fires due timers: marks each fired and emits its timeout event (through the outbox on PostgreSQL).
  const timers = sagaTimeouts({
    store: storage.sagas,
    bus,
    intervalMs: 50,
    onError: (error) => options.onError?.('checkout timers', error),
  });

  return {
    name: 'checkout',
    bus,
    async stop() {
      await timers.stop();
      await bus.close({ drainTimeoutMs: 5_000 });
      subscription.unsubscribe();
    },
  };
}
