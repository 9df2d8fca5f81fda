// Where the flow keeps state, as one seam with two backends: process memory (the default, for
// `pnpm demo` with nothing installed) and PostgreSQL (pg-storage.ts). The services see only this.
import type { Bus, SwitchyardEvent } from '@switchyard/core';
import type {
  AppendResult,
  EventStore,
  ExpectedVersion,
  NewEvent,
  ProjectionStore,
} from '@switchyard/eventsourcing';
import type { SagaStore } from '@switchyard/saga';
import type { OrderSummaryQuery, OrderSummaryTable } from './order-summary.ts';

/**
 * One unit of work of the orders service: what it appends and what it publishes commit together
 * or not at all. That is the transactional outbox: a message is written next to the state change
 * and a relay publishes it after the commit, so no event is lost between the write and the publish
 * (and none is published for a write that did not happen).
 */
export interface OrdersTransaction {
  /** Append to an order stream; `ConcurrencyError` when the stream is no longer at `expectedVersion`. */
  append(
    streamId: string,
    events: readonly NewEvent[],
    expectedVersion: ExpectedVersion,
  ): Promise<AppendResult>;
  /** Write `event` (fully built: its id is kept) to the outbox, for `topic`. */
  publish(topic: string, event: SwitchyardEvent): Promise<void>;
}

/** Moves committed outbox messages to the broker; `close()` sends what is committed, then stops. */
export interface Relay {
  close(): Promise<void>;
  /** `relayed`: messages this relay had the broker confirm; `backlog`: committed, not yet sent. */
  stats(): Promise<{ readonly relayed: number; readonly backlog: number }>;
}

export interface Storage {
  readonly kind: 'memory' | 'postgres';
  /** The order streams (the orders service's state). */
  readonly events: EventStore;
  /** Run `work` as one transaction (see OrdersTransaction). */
  transaction<R>(work: (tx: OrdersTransaction) => Promise<R>): Promise<R>;
  /** Start relaying the outbox to `bus`. */
  relay(bus: Bus): Relay;
  /** The checkout process manager's instances, handled event ids and timers. */
  readonly sagas: SagaStore;
  /** The order-summary read model: its table, and its checkpoint and lock. */
  // biome-ignore lint/suspicious/noExplicitAny: the transaction type is the backend's own
  readonly summaries: OrderSummaryTable<any> & OrderSummaryQuery;
  // biome-ignore lint/suspicious/noExplicitAny: the transaction type is the backend's own
  readonly projections: ProjectionStore<any>;
}
