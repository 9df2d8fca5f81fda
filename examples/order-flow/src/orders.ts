// The orders service: owns the orders. Each order is an event-sourced aggregate (order.ts) whose
// events are appended to its stream and written to the outbox in one transaction; the relay
// publishes them on the orders topic. It also keeps the order-summary read model up to date.
//   placeOrder()  → OrderPlaced
//   ConfirmOrder  → OrderConfirmed
//   CancelOrder   → OrderCancelled
import { connect, handle, type SwitchyardEvent } from '@switchyard/core';
import { ConcurrencyError, type ProjectionRunner, runProjection } from '@switchyard/eventsourcing';
import {
  type CancelOrder,
  CommandTypes,
  type ConfirmOrder,
  type OrderPlaced,
  registerSchemas,
} from './events.ts';
import { decide, type OrderCommand, orderAggregate, streamOf } from './order.ts';
import { type OrderSummaryQuery, orderSummaryProjection } from './order-summary.ts';
import {
  brokerUrl,
  idempotencyStore,
  policies,
  running,
  type Service,
  type ServiceOptions,
} from './service.ts';
import type { Storage } from './storage.ts';

export interface OrdersService extends Service {
  /** Append OrderPlaced (once per order id: placing it again changes nothing). */
  placeOrder(order: OrderPlaced): Promise<SwitchyardEvent<OrderPlaced> | undefined>;
  /** The read model; `caughtUp()` first to read your own writes. */
  readonly summaries: OrderSummaryQuery;
  /** Resolves once the read model reflects every order event appended so far. */
  caughtUp(): Promise<void>;
}

/** Attempts when another writer appended to the same order first. */
const MAX_ATTEMPTS = 5;

export async function startOrders(
  options: ServiceOptions & { readonly storage: Storage },
): Promise<OrdersService> {
  const { topics, storage } = options;
  const bus = await connect({ url: brokerUrl(options), source: 'orders' });
  registerSchemas(bus);
  await bus.provision(topics.orderCommands, { groups: ['orders'] });
  await bus.provision(topics.orders);

  /**
   * Load the order, decide, and append with the loaded version as the expected one, writing the
   * new events to the outbox in the same transaction. Another writer first → load and decide again.
   */
  const execute = async (
    orderId: string,
    command: OrderCommand,
    cause?: SwitchyardEvent,
  ): Promise<SwitchyardEvent[]> => {
    const stream = streamOf(orderId);
    for (let attempt = 1; ; attempt++) {
      const { state, version } = await storage.events.aggregate(stream, orderAggregate);
      const inputs = decide(state, command).map((input) => ({
        ...input,
        key: orderId,
        subject: orderId,
        // A follow-up of the command: same conversation, caused by it.
        ...(cause ? { causationid: cause.id, correlationid: cause.correlationid } : {}),
      }));
      if (inputs.length === 0) return [];
      try {
        return await storage.transaction(async (tx) => {
          const { events } = await tx.append(stream, inputs, version === 0 ? 'no_stream' : version);
          for (const event of events) await tx.publish(topics.orders, event);
          return [...events];
        });
      } catch (error) {
        if (!(error instanceof ConcurrencyError) || attempt >= MAX_ATTEMPTS) throw error;
      }
    }
  };

  const onCommands = bus.consume(topics.orderCommands, { group: 'orders' }).pipe(
    handle(
      async (event) => {
        if (event.type === CommandTypes.ConfirmOrder) {
          const { orderId, paymentId } = event.data as ConfirmOrder;
          await execute(orderId, { kind: 'confirm', paymentId }, event);
        } else if (event.type === CommandTypes.CancelOrder) {
          const { orderId, reason } = event.data as CancelOrder;
          await execute(orderId, { kind: 'cancel', reason }, event);
        }
      },
      policies(topics, idempotencyStore()),
    ),
  );

  const summaries = storage.summaries;
  const projector: ProjectionRunner = runProjection(orderSummaryProjection(summaries), {
    store: storage.events,
    projections: storage.projections,
    pollIntervalMs: 20,
    retryDelayMs: 200,
    onError: (error) => options.onError?.('orders', error as Error),
  });

  const service = running('orders', bus, [onCommands], options);
  return {
    ...service,
    summaries,
    caughtUp: () => projector.caughtUp(),
    async placeOrder(order) {
      const [placed] = await execute(order.orderId, { kind: 'place', order });
      return placed as SwitchyardEvent<OrderPlaced> | undefined;
    },
    async stop() {
      await service.stop();
      await projector.stop();
    },
  };
}
