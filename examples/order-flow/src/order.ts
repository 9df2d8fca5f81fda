// The order aggregate: an order is its stream of events (event sourcing). Its state is the fold of
// those events (evolve); a command is checked against that state and answered with new events
// (decide). No I/O here: orders.ts loads, decides and appends.
import type { SwitchyardEvent } from '@switchyard/core';
import type { NewEvent } from '@switchyard/eventsourcing';
import { EventTypes, type OrderCancelled, type OrderConfirmed, type OrderPlaced } from './events.ts';

export type OrderStatus = 'placed' | 'confirmed' | 'cancelled';

export type Order =
  | { readonly status: 'new' }
  | { readonly status: OrderStatus; readonly placed: OrderPlaced; readonly reason?: string };

export type OrderCommand =
  | { readonly kind: 'place'; readonly order: OrderPlaced }
  | { readonly kind: 'confirm'; readonly paymentId: string }
  | { readonly kind: 'cancel'; readonly reason: string };

/** One stream per order. */
export const streamOf = (orderId: string): string => `order-${orderId}`;

export function evolve(order: Order, event: SwitchyardEvent): Order {
  switch (event.type) {
    case EventTypes.OrderPlaced:
      return { status: 'placed', placed: event.data as OrderPlaced };
    case EventTypes.OrderConfirmed:
      return order.status === 'new' ? order : { ...order, status: 'confirmed' };
    case EventTypes.OrderCancelled:
      return order.status === 'new'
        ? order
        : { ...order, status: 'cancelled', reason: (event.data as OrderCancelled).reason };
    default:
      return order;
  }
}

/**
 * The events a command leads to. A command that has been applied already leads to none (placing
 * an order twice, confirming a confirmed one), so a redelivered command changes nothing; an order
 * ends once (a cancelled order is not confirmed later).
 */
export function decide(order: Order, command: OrderCommand): NewEvent[] {
  switch (command.kind) {
    case 'place':
      if (order.status !== 'new') return [];
      return [{ type: EventTypes.OrderPlaced, data: command.order }];
    case 'confirm': {
      if (order.status !== 'placed') return [];
      const data: OrderConfirmed = { orderId: order.placed.orderId, paymentId: command.paymentId };
      return [{ type: EventTypes.OrderConfirmed, data }];
    }
    case 'cancel': {
      if (order.status !== 'placed') return [];
      const data: OrderCancelled = { orderId: order.placed.orderId, reason: command.reason };
      return [{ type: EventTypes.OrderCancelled, data }];
    }
  }
}

/** What `EventStore.aggregate` folds with. Orders are short streams: no snapshots needed. */
export const orderAggregate = { initial: { status: 'new' } as Order, evolve };
