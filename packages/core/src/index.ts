// The public face of @switchyard/core: everything a service author or a transport needs.
export {
  type Backoff,
  backoffSequence,
  exponentialBackoff,
  fixedBackoff,
  type Jitter,
  linearBackoff,
} from './backoff.ts';
export { Bus, type CloseOptions, type ConsumeOptions } from './bus.ts';
export { decode, encode } from './codec.ts';
export { connect } from './connect.ts';
export type { ConnectOptions } from './connect-options.ts';
export { parseBrokerUrl, redactUrl, TRANSPORT_PACKAGES } from './connect-url.ts';
export type { Delivery, DeliveryOrigin, EventDelivery, InvalidDelivery } from './delivery.ts';
export * from './errors.ts';
export { createEvent, type EventInput, type SwitchyardEvent, validateEvent } from './event.ts';
export {
  type MemoryIdempotencyStore,
  type MemoryIdempotencyStoreOptions,
  memoryIdempotencyStore,
} from './idempotency/memory-store.ts';
export {
  type ClaimEntry,
  type ClaimResult,
  type IdempotencyStore,
  isTransactional,
  type SyncIdempotencyStore,
  type TransactionalIdempotencyStore,
  type TransactionResult,
} from './idempotency/store.ts';
export { type MemoryOptions, MemoryTransport } from './memory/transport.ts';
export { type DeadLetterOptions, deadLetter, deadLetterTopic } from './policies/dead-letter.ts';
export { type HandleOptions, type Handler, type HandlerContext, handle } from './policies/handle.ts';
export { type IdempotencyOptions, idempotent } from './policies/idempotent.ts';
export { type KeyOrderedOptions, keyOrdered, type Step } from './policies/key-ordered.ts';
export type { Outcome, OutcomeKind } from './policies/outcome.ts';
export { type RetryDecision, type RetryOptions, retryDecision } from './policies/retry.ts';
export { withTimeout } from './policies/with-timeout.ts';
export {
  type JsonSchema,
  type RegisterOptions,
  type Schema,
  SchemaRegistry,
  type StandardSchemaV1,
  type Upcaster,
} from './schemas.ts';
export {
  type Capabilities,
  copyBytes,
  encodedSize,
  rememberedNames,
  type SubscribeOptions,
  type Transport,
  type TransportDelivery,
  type TransportFactory,
  type TransportFactoryOptions,
  type WireMessage,
} from './transport.ts';
