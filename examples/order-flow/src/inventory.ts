// The inventory service: reserves stock and gives it back, as the checkout asks.
//   ReserveStock → InventoryReserved | InventoryOutOfStock
//   ReleaseStock → InventoryReleased                        (a compensation)
import { connect, handle } from '@switchyard/core';
import {
  CommandTypes,
  EventTypes,
  type InventoryOutOfStock,
  type InventoryReleased,
  type InventoryReserved,
  type OrderPlaced,
  type ReleaseStock,
  type ReserveStock,
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
  // Create what we consume (and our group) before anyone publishes, so nothing is missed.
  await bus.provision(topics.inventoryCommands, { groups: ['inventory'] });
  await bus.provision(topics.inventory);

  const stock = new Map(Object.entries(options.stock));
  const reservations = new Map<string, OrderPlaced['items']>();

  const reserve = async (
    { orderId, items }: ReserveStock,
    publish: (input: { type: string; data: unknown; key: string }) => Promise<unknown>,
  ) => {
    // Reserve at most once per order, even if publishing below fails and the command is retried.
    if (!reservations.has(orderId)) {
      const missing = items.find((item) => (stock.get(item.sku) ?? 0) < item.quantity);
      if (missing) {
        const data: InventoryOutOfStock = { orderId, sku: missing.sku, requested: missing.quantity };
        await publish({ type: EventTypes.InventoryOutOfStock, data, key: orderId });
        return;
      }
      for (const item of items) stock.set(item.sku, (stock.get(item.sku) ?? 0) - item.quantity);
      reservations.set(orderId, items);
    }
    const data: InventoryReserved = { orderId, items };
    await publish({ type: EventTypes.InventoryReserved, data, key: orderId });
  };

  const release = async (
    { orderId, reason }: ReleaseStock,
    publish: (input: { type: string; data: unknown; key: string }) => Promise<unknown>,
  ) => {
    // Releasing twice gives back nothing the second time: a compensation must be safe to repeat.
    const items = reservations.get(orderId);
    if (items) {
      for (const item of items) stock.set(item.sku, (stock.get(item.sku) ?? 0) + item.quantity);
      reservations.delete(orderId);
    }
    const data: InventoryReleased = { orderId, items: items ?? [], reason };
    await publish({ type: EventTypes.InventoryReleased, data, key: orderId });
  };

  const onCommands = bus.consume(topics.inventoryCommands, { group: 'inventory' }).pipe(
    handle(
      async (event, ctx) => {
        const publish = (input: { type: string; data: unknown; key: string }) =>
          ctx.publish(topics.inventory, input);
        if (event.type === CommandTypes.ReserveStock) await reserve(event.data as ReserveStock, publish);
        else if (event.type === CommandTypes.ReleaseStock) await release(event.data as ReleaseStock, publish);
      },
      policies(topics, idempotencyStore()),
    ),
  );

  return { ...running('inventory', bus, [onCommands], options), stock };
}
