// The events the three services exchange: names, shapes and schemas. This file is the whole
// contract between the services; none of them imports another.
import type { Bus } from '@switchyard/core';
import { z } from 'zod';

/** CloudEvents `type`s, reverse-DNS as the spec recommends. */
export const EventTypes = {
  OrderPlaced: 'com.acme.order.placed',
  OrderConfirmed: 'com.acme.order.confirmed',
  OrderCancelled: 'com.acme.order.cancelled',
  InventoryReserved: 'com.acme.inventory.reserved',
  InventoryOutOfStock: 'com.acme.inventory.out-of-stock',
  InventoryReleased: 'com.acme.inventory.released',
  PaymentCaptured: 'com.acme.payment.captured',
  PaymentFailed: 'com.acme.payment.failed',
} as const;

/** `com.acme.order.placed` → `OrderPlaced`, for the timeline. */
export function shortType(type: string): string {
  for (const [name, value] of Object.entries(EventTypes)) if (value === type) return name;
  return type;
}

const orderId = z.string().regex(/^o-\d+$/);
const lineItem = z.object({ sku: z.string().min(1), quantity: z.number().int().positive() });

export const orderPlacedSchema = z.object({
  orderId,
  customerId: z.string().min(1),
  items: z.array(lineItem).min(1),
  total: z.number().positive(),
  /** An opaque payment token; the demo's gateway decides by it (see payments.ts). */
  paymentToken: z.string().min(1),
});
export type OrderPlaced = z.infer<typeof orderPlacedSchema>;

export const inventoryReservedSchema = z.object({
  orderId,
  items: z.array(lineItem),
  // Carried forward so payments needs nothing but this event (event-carried state transfer).
  total: z.number().positive(),
  paymentToken: z.string().min(1),
});
export type InventoryReserved = z.infer<typeof inventoryReservedSchema>;

export const inventoryOutOfStockSchema = z.object({ orderId, sku: z.string(), requested: z.number() });
export type InventoryOutOfStock = z.infer<typeof inventoryOutOfStockSchema>;

export const inventoryReleasedSchema = z.object({ orderId, items: z.array(lineItem), reason: z.string() });
export type InventoryReleased = z.infer<typeof inventoryReleasedSchema>;

export const paymentCapturedSchema = z.object({ orderId, amount: z.number(), paymentId: z.string() });
export type PaymentCaptured = z.infer<typeof paymentCapturedSchema>;

export const paymentFailedSchema = z.object({ orderId, reason: z.string() });
export type PaymentFailed = z.infer<typeof paymentFailedSchema>;

export const orderConfirmedSchema = z.object({ orderId, paymentId: z.string() });
export type OrderConfirmed = z.infer<typeof orderConfirmedSchema>;

export const orderCancelledSchema = z.object({ orderId, reason: z.string() });
export type OrderCancelled = z.infer<typeof orderCancelledSchema>;

/** Every service registers every schema: validated when it publishes and when it consumes. */
export function registerSchemas(bus: Bus): void {
  bus.schemas
    .register(EventTypes.OrderPlaced, orderPlacedSchema)
    .register(EventTypes.OrderConfirmed, orderConfirmedSchema)
    .register(EventTypes.OrderCancelled, orderCancelledSchema)
    .register(EventTypes.InventoryReserved, inventoryReservedSchema)
    .register(EventTypes.InventoryOutOfStock, inventoryOutOfStockSchema)
    .register(EventTypes.InventoryReleased, inventoryReleasedSchema)
    .register(EventTypes.PaymentCaptured, paymentCapturedSchema)
    .register(EventTypes.PaymentFailed, paymentFailedSchema);
}

/** Topic names for one run. On a shared broker a per-run suffix keeps runs from seeing each other. */
export interface Topics {
  readonly orders: string;
  readonly inventory: string;
  readonly payments: string;
  /** One dead-letter topic for the whole flow; `deadlettergroup` says which service gave up. */
  readonly deadLetters: string;
}

/** Every topic of one run starts with this; `pnpm brokers sweep` knows the `sy-demo-` prefix. */
export const topicPrefixFor = (runId: string): string => `sy-demo-${runId}-`;

export function topicsFor(runId: string): Topics {
  const prefix = topicPrefixFor(runId);
  return {
    orders: `${prefix}orders`,
    inventory: `${prefix}inventory`,
    payments: `${prefix}payments`,
    deadLetters: `${prefix}deadletters`,
  };
}
