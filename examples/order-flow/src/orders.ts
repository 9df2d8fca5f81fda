// The orders service: places orders and decides how each one ends.
//   placeOrder()                          → OrderPlaced
//   PaymentCaptured                       → OrderConfirmed
//   InventoryOutOfStock | InventoryReleased → OrderCancelled
import { connect, type HandlerContext, handle, type SwitchyardEvent } from '@switchyard/core';
import {
  EventTypes,
  type InventoryOutOfStock,
  type InventoryReleased,
  type OrderCancelled,
  type OrderConfirmed,
  type OrderPlaced,
  type PaymentCaptured,
  registerSchemas,
} from './events.ts';
import {
  brokerUrl,
  idempotencyStore,
  policies,
  running,
  type Service,
  type ServiceOptions,
} from './service.ts';

export type OrderStatus = 'placed' | 'confirmed' | 'cancelled';

export interface OrdersService extends Service {
  /** Publish OrderPlaced. Pass `id` to publish an event again under the same id (a producer retry). */
  placeOrder(order: OrderPlaced, options?: { id?: string }): Promise<SwitchyardEvent<OrderPlaced>>;
  readonly status: ReadonlyMap<string, OrderStatus>;
}

export async function startOrders(options: ServiceOptions): Promise<OrdersService> {
  const { topics } = options;
  const bus = await connect({ url: brokerUrl(options), source: 'orders' });
  registerSchemas(bus);
  await bus.provision(topics.inventory, { groups: ['orders'] });
  await bus.provision(topics.payments, { groups: ['orders'] });
  await bus.provision(topics.orders);

  const status = new Map<string, OrderStatus>();
  const store = idempotencyStore();

  /** The one place an order ends: only a placed order moves, and only once. */
  const settle = async (
    ctx: HandlerContext,
    orderId: string,
    outcome: { confirmed: OrderConfirmed } | { cancelled: OrderCancelled },
  ) => {
    if (status.get(orderId) !== 'placed') return;
    if ('confirmed' in outcome) {
      await ctx.publish<OrderConfirmed>(topics.orders, {
        type: EventTypes.OrderConfirmed,
        data: outcome.confirmed,
        key: orderId,
      });
      status.set(orderId, 'confirmed');
    } else {
      await ctx.publish<OrderCancelled>(topics.orders, {
        type: EventTypes.OrderCancelled,
        data: outcome.cancelled,
        key: orderId,
      });
      status.set(orderId, 'cancelled');
    }
  };

  const onInventory = bus.consume(topics.inventory, { group: 'orders' }).pipe(
    handle(
      async (event, ctx) => {
        if (event.type === EventTypes.InventoryOutOfStock) {
          const { orderId, sku, requested } = event.data as InventoryOutOfStock;
          await settle(ctx, orderId, {
            cancelled: { orderId, reason: `out of stock: ${sku} x${requested}` },
          });
        } else if (event.type === EventTypes.InventoryReleased) {
          // The compensation finished: stock is back, so the order can be cancelled.
          const { orderId, reason } = event.data as InventoryReleased;
          await settle(ctx, orderId, { cancelled: { orderId, reason } });
        }
      },
      policies(topics, store),
    ),
  );

  const onPayments = bus.consume(topics.payments, { group: 'orders' }).pipe(
    handle(
      async (event, ctx) => {
        if (event.type !== EventTypes.PaymentCaptured) return; // PaymentFailed: wait for the release
        const { orderId, paymentId } = event.data as PaymentCaptured;
        await settle(ctx, orderId, { confirmed: { orderId, paymentId } });
      },
      policies(topics, store),
    ),
  );

  return {
    ...running('orders', bus, [onInventory, onPayments], options),
    status,
    async placeOrder(order, { id } = {}) {
      if (!status.has(order.orderId)) status.set(order.orderId, 'placed');
      return bus.publish<OrderPlaced>(topics.orders, {
        type: EventTypes.OrderPlaced,
        data: order,
        key: order.orderId,
        subject: order.orderId,
        ...(id ? { id } : {}),
      });
    },
  };
}
