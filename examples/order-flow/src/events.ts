// The events and commands the services exchange: names, shapes and schemas. This file is the whole
// contract between the services; none of them imports another.
import type { SchemaRegistry } from '@switchyard/core';
import { z } from 'zod';

/** CloudEvents `type`s of the events (what happened), reverse-DNS as the spec recommends. */
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

/** The commands the checkout process manager sends (what it asks a service to do). */
export const CommandTypes = {
  ReserveStock: 'com.acme.inventory.reserve',
  ReleaseStock: 'com.acme.inventory.release',
  ChargePayment: 'com.acme.payment.charge',
  ConfirmOrder: 'com.acme.order.confirm',
  CancelOrder: 'com.acme.order.cancel',
} as const;

/** The checkout's timer: a timer name is an event type too, delivered on the checkout topic. */
export const TimerTypes = {
  PaymentTimeout: 'com.acme.checkout.payment-timeout',
} as const;

const SHORT_NAMES: ReadonlyMap<string, string> = new Map(
  Object.entries({ ...EventTypes, ...CommandTypes, ...TimerTypes }).map(([name, type]) => [type, name]),
);

/** `com.acme.order.placed` → `OrderPlaced`, for the timeline. */
export function shortType(type: string): string {
  return SHORT_NAMES.get(type) ?? type;
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

export const inventoryReservedSchema = z.object({ orderId, items: z.array(lineItem) });
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

export const reserveStockSchema = z.object({ orderId, items: z.array(lineItem).min(1) });
export type ReserveStock = z.infer<typeof reserveStockSchema>;

export const releaseStockSchema = z.object({ orderId, reason: z.string() });
export type ReleaseStock = z.infer<typeof releaseStockSchema>;

export const chargePaymentSchema = z.object({
  orderId,
  amount: z.number().positive(),
  paymentToken: z.string().min(1),
});
export type ChargePayment = z.infer<typeof chargePaymentSchema>;

export const confirmOrderSchema = z.object({ orderId, paymentId: z.string() });
export type ConfirmOrder = z.infer<typeof confirmOrderSchema>;

export const cancelOrderSchema = z.object({ orderId, reason: z.string() });
export type CancelOrder = z.infer<typeof cancelOrderSchema>;

/**
 * Every service registers every schema: validated when it publishes and when it consumes (a bus),
 * or when it appends and reads (an event store).
 */
export function registerSchemas(target: { readonly schemas: SchemaRegistry }): void {
  target.schemas
    .register(EventTypes.OrderPlaced, orderPlacedSchema)
    .register(EventTypes.OrderConfirmed, orderConfirmedSchema)
    .register(EventTypes.OrderCancelled, orderCancelledSchema)
    .register(EventTypes.InventoryReserved, inventoryReservedSchema)
    .register(EventTypes.InventoryOutOfStock, inventoryOutOfStockSchema)
    .register(EventTypes.InventoryReleased, inventoryReleasedSchema)
    .register(EventTypes.PaymentCaptured, paymentCapturedSchema)
    .register(EventTypes.PaymentFailed, paymentFailedSchema)
    .register(CommandTypes.ReserveStock, reserveStockSchema)
    .register(CommandTypes.ReleaseStock, releaseStockSchema)
    .register(CommandTypes.ChargePayment, chargePaymentSchema)
    .register(CommandTypes.ConfirmOrder, confirmOrderSchema)
    .register(CommandTypes.CancelOrder, cancelOrderSchema);
}

/** Topic names for one run. On a shared broker a per-run suffix keeps runs from seeing each other. */
export interface Topics {
  /** Events each service publishes about itself. */
  readonly orders: string;
  readonly inventory: string;
  readonly payments: string;
  /** Commands to each service, sent by the checkout process manager. */
  readonly orderCommands: string;
  readonly inventoryCommands: string;
  readonly paymentCommands: string;
  /** The checkout's own topic: its timeout events come back to it here. */
  readonly checkout: string;
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
    orderCommands: `${prefix}order-commands`,
    inventoryCommands: `${prefix}inventory-commands`,
    paymentCommands: `${prefix}payment-commands`,
    checkout: `${prefix}checkout`,
    deadLetters: `${prefix}deadletters`,
  };
}
