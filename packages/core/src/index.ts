// The public face of @switchyard/core for service authors. What only a transport author needs (the
// contract's other half, the kit, encode/decode) is @switchyard/core/transport (transport-api.ts).
export {
  type Backoff,
  backoffSequence,
  exponentialBackoff,
  fixedBackoff,
  type Jitter,
  linearBackoff,
} from './backoff.ts';
export { Bus, type CloseOptions, type ConsumeOptions } from './bus.ts';
export { validateEvent } from './cloudevent.ts';
export { connect } from './connect.ts';
export type { ConnectOptions } from './connect-options.ts';
export { parseBrokerUrl, redactUrl } from './connect-url.ts';
export type { Delivery, DeliveryOrigin, EventDelivery, InvalidDelivery } from './delivery.ts';
export * from './errors.ts';
export { createEvent, type EventInput, type SwitchyardEvent } from './event.ts';
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
export {
  consoleLogger,
  type LogEntry,
  type Logger,
  type LogLevel,
  type LogThreshold,
  leveledLogger,
} from './logger.ts';
export { type MemoryOptions, MemoryTransport } from './memory/transport.ts';
export { assertGroupName, assertTopicName, NAME_RULE } from './names.ts';
export type {
  DeadLetterGroup,
  DeadLetters,
  DeadLettersOptions,
  InspectDeadLettersOptions,
  ScanOptions,
} from './ops/dead-letters.ts';
export type { DeadLetter } from './ops/dead-letters-letter.ts';
export type { RedriveOptions, RedriveReport } from './ops/dead-letters-redrive.ts';
export type { InspectOptions } from './ops/inspect.ts';
export type { Instrumentation, Processing, Sending, TraceContext } from './ops/instrumentation.ts';
export { DEAD_LETTER_GROUP, type GroupStatus, type Inspection } from './ops/stats.ts';
export { type DeadLetterOptions, deadLetter, deadLetterTopic } from './policies/dead-letter.ts';
export { type HandleOptions, type Handler, type HandlerContext, handle } from './policies/handle.ts';
export { type IdempotencyOptions, idempotent } from './policies/idempotent.ts';
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
// Types the Bus API shows (bus.transport, publishWire); the rest of the contract is in /transport.
export type { Capabilities, Transport, WireMessage } from './transport.ts';
export type {
  KafkaConnectOptions,
  NatsConnectOptions,
  RabbitMqConnectOptions,
  SqsConnectOptions,
  TransportOptionsFor,
  TransportOptionsRegistry,
} from './transport-options.ts';
