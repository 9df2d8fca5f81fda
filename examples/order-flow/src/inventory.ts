// The inventory service: reserves stock when an order is placed, releases it when payment fails.
//   OrderPlaced   → InventoryReserved | InventoryOutOfStock
//   PaymentFailed → InventoryReleased                        (compensation)
import { connect, handle } from '@switchyard/core';
import {
  EventTypes,
  type InventoryOutOfStock,
  type InventoryReleased,
  type InventoryReserved,
  type OrderPlaced,
  type PaymentFailed,
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

export interface InventoryService extends Service {
  /** Units on hand per SKU, after reservations. */
  readonly stock: ReadonlyMap<string, number>;
}

export async function startInventory(
  options: ServiceOptions & { readonly stock: Readonly<Record<string, number>> },
): Promise<InventoryService> {
  const { topics } = options;
  const bus = await connect({ url: brokerUrl(options), source: 'inventory' });
  registerSchemas(bus);
  // Create what we consume (and our groups) before anyone publishes, so nothing is missed.
  await bus.provision(topics.orders, { groups: ['inventory'] });
  await bus.provision(topics.payments, { groups: ['inventory'] });
  await bus.provision(topics.inventory);

  const stock = new Map(Object.entries(options.stock));
  const reservations = new Map<string, OrderPlaced['items']>();
  const store = idempotencyStore();

  const onOrders = bus.consume(topics.orders, { group: 'inventory' }).pipe(
    handle(
      async (event, ctx) => {
        if (event.type !== EventTypes.OrderPlaced) return; // confirmations, cancellations: not ours
        const order = event.data as OrderPlaced;
        // Reserve at most once per order, even if publishing below fails and the event is retried.
        if (!reservations.has(order.orderId)) {
          const missing = order.items.find((item) => (stock.get(item.sku) ?? 0) < item.quantity);
          if (missing) {
            await ctx.publish<InventoryOutOfStock>(topics.inventory, {
              type: EventTypes.InventoryOutOfStock,
              data: { orderId: order.orderId, sku: missing.sku, requested: missing.quantity },
              key: order.orderId,
            });
            return;
          }
          for (const item of order.items) stock.set(item.sku, (stock.get(item.sku) ?? 0) - item.quantity);
          reservations.set(order.orderId, order.items);
        }
        await ctx.publish<InventoryReserved>(topics.inventory, {
          type: EventTypes.InventoryReserved,
          data: {
            orderId: order.orderId,
            items: order.items,
            total: order.total,
            paymentToken: order.paymentToken,
          },
          key: order.orderId,
        });
      },
      policies(topics, store),
    ),
  );

  const onPayments = bus.consume(topics.payments, { group: 'inventory' }).pipe(
    handle(
      async (event, ctx) => {
        if (event.type !== EventTypes.PaymentFailed) return;
        const { orderId, reason } = event.data as PaymentFailed;
        const items = reservations.get(orderId);
        if (items) {
          for (const item of items) stock.set(item.sku, (stock.get(item.sku) ?? 0) + item.quantity);
          reservations.delete(orderId);
        }
        await ctx.publish<InventoryReleased>(topics.inventory, {
          type: EventTypes.InventoryReleased,
          data: { orderId, items: items ?? [], reason: `payment failed: ${reason}` },
          key: orderId,
        });
      },
      policies(topics, store),
    ),
  );

  return { ...running('inventory', bus, [onOrders, onPayments], options), stock };
}
