// The public face of @switchyard/eventsourcing: the store contract, the memory store, aggregates,
// subscriptions and projections. No database client: @switchyard/postgres implements `EventLog`.
export type { AggregateOptions, AggregateState, Evolve } from './aggregate.ts';
export { ConcurrencyError, EventStoreError, ProjectionBusyError, ProjectionHaltedError } from './errors.ts';
export {
  type AppendOptions,
  type DecideOptions,
  type DecideResult,
  EventStore,
  type EventStoreOptions,
  type Lag,
  lagFrom,
} from './event-store.ts';
export { MemoryEventLog } from './memory-log.ts';
export { MemoryProjectionStore } from './memory-projections.ts';
export { memoryEventStore } from './memory-store.ts';
export {
  type ParkedEvent,
  type PoisonPolicy,
  type ProjectionBatchContext,
  type ProjectionBatchHandler,
  type ProjectionContext,
  type ProjectionDefinition,
  type ProjectionErrorInfo,
  type ProjectionHandler,
  type ProjectionLag,
  type ProjectionLease,
  type ProjectionRunner,
  type ProjectionStore,
  projection,
  type RebuildOptions,
  type RebuildResult,
  type RunProjectionOptions,
  rebuildProjection,
  runProjection,
} from './projection.ts';
export { StoreDelivery } from './store-delivery.ts';
export type { SubscribeOptions } from './subscription.ts';
export {
  type AppendResult,
  type Checkpoint,
  compareCheckpoints,
  type EventLog,
  type ExpectedVersion,
  type NewEvent,
  type ReadAllOptions,
  type ReadStreamOptions,
  type Snapshot,
  START,
  type StoredEvent,
} from './types.ts';
