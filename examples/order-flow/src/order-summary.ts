// The order-summary read model (CQRS): one row per order, built by a projection from the order
// streams, queried by whoever wants to know "what are my orders and where are they?". The rows
// live in a table (memory here, PostgreSQL in pg-order-summary.ts); the projection runner keeps
// them up to date and, on PostgreSQL, commits each batch's rows with its checkpoint.
import type { SwitchyardEvent } from '@switchyard/core';
import { type ProjectionDefinition, projection } from '@switchyard/eventsourcing';
import { EventTypes, type OrderCancelled, type OrderConfirmed, type OrderPlaced } from './events.ts';
import type { OrderStatus } from './order.ts';

export interface OrderSummary {
  readonly orderId: string;
  readonly customerId: string;
  /** Units over all line items. */
  readonly units: number;
  readonly total: number;
  readonly status: OrderStatus;
  /** Why it was cancelled. */
  readonly reason: string | null;
  readonly paymentId: string | null;
  /** The order stream's version this row reflects. */
  readonly version: number;
  /** When the last event of the order happened (its `time`). */
  readonly updatedAt: string;
}

/** What a user asks the read model. */
export interface OrderSummaryQuery {
  get(orderId: string): Promise<OrderSummary | undefined>;
  /** By order id; only the given status / customer when asked. */
  list(filter?: { readonly status?: OrderStatus; readonly customerId?: string }): Promise<OrderSummary[]>;
}

/** Where the rows are kept: written in the projection's transaction `tx`, read by queries. */
export interface OrderSummaryTable<Tx> extends OrderSummaryQuery {
  read(tx: Tx, orderId: string): Promise<OrderSummary | undefined>;
  write(tx: Tx, row: OrderSummary): Promise<void>;
  /** Empty the table (a rebuild from the start). */
  truncate(tx: Tx): Promise<void>;
}

/** The row after `event` (version `version` of its order stream). */
export function summarize(
  row: OrderSummary | undefined,
  event: SwitchyardEvent,
  version: number,
): OrderSummary | undefined {
  // Applied already (a memory read model replays a failed batch from its start): no change.
  if (row !== undefined && version <= row.version) return undefined;
  if (event.type === EventTypes.OrderPlaced) {
    const placed = event.data as OrderPlaced;
    return {
      orderId: placed.orderId,
      customerId: placed.customerId,
      units: placed.items.reduce((sum, item) => sum + item.quantity, 0),
      total: placed.total,
      status: 'placed',
      reason: null,
      paymentId: null,
      version,
      updatedAt: event.time,
    };
  }
  if (row === undefined) return undefined; // nothing to add to
  if (event.type === EventTypes.OrderConfirmed) {
    const { paymentId } = event.data as OrderConfirmed;
    return { ...row, status: 'confirmed', paymentId, version, updatedAt: event.time };
  }
  if (event.type === EventTypes.OrderCancelled) {
    const { reason } = event.data as OrderCancelled;
    return { ...row, status: 'cancelled', reason, version, updatedAt: event.time };
  }
  return undefined;
}

/** The projection: every order event updates its order's row, in the batch's transaction. */
export function orderSummaryProjection<Tx>(table: OrderSummaryTable<Tx>): ProjectionDefinition<Tx> {
  const apply = async (event: SwitchyardEvent, context: { tx: Tx; stored: { version: number } }) => {
    const orderId = (event.data as { orderId: string }).orderId;
    const next = summarize(await table.read(context.tx, orderId), event, context.stored.version);
    if (next !== undefined) await table.write(context.tx, next);
  };
  return projection<Tx>({
    name: 'order-summary',
    version: 1,
    handlers: {
      [EventTypes.OrderPlaced]: apply,
      [EventTypes.OrderConfirmed]: apply,
      [EventTypes.OrderCancelled]: apply,
    },
    truncate: (tx) => table.truncate(tx),
  });
}

/** The read model in process memory (the memory projection store hands out no transaction). */
export function memoryOrderSummaryTable(): OrderSummaryTable<undefined> {
  const rows = new Map<string, OrderSummary>();
  return {
    read: async (_tx, orderId) => rows.get(orderId),
    write: async (_tx, row) => {
      rows.set(row.orderId, row);
    },
    truncate: async () => rows.clear(),
    get: async (orderId) => rows.get(orderId),
    list: async (filter = {}) =>
      [...rows.values()]
        .filter((row) => filter.status === undefined || row.status === filter.status)
        .filter((row) => filter.customerId === undefined || row.customerId === filter.customerId)
        .sort((a, b) => a.orderId.localeCompare(b.orderId)),
  };
}
