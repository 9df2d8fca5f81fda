// Names from the OpenTelemetry messaging semantic conventions (status Development). They are still
// experimental, so they are written out here rather than imported from
// @opentelemetry/semantic-conventions/incubating, and test/names.test.ts pins every one of them: a
// rename upstream is a decision to make here, not a surprise in a dependency update.

/** Span and metric attribute names. */
export const ATTR = {
  system: 'messaging.system',
  destination: 'messaging.destination.name',
  operationType: 'messaging.operation.type',
  operationName: 'messaging.operation.name',
  consumerGroup: 'messaging.consumer.group.name',
  messageId: 'messaging.message.id',
  conversationId: 'messaging.message.conversation_id',
  bodySize: 'messaging.message.body.size',
  batchCount: 'messaging.batch.message_count',
  errorType: 'error.type',
  // Switchyard's own (no convention covers them).
  /** On `attempt` and `retry` events: the 1-based attempt, broker redeliveries counted. */
  attempt: 'switchyard.attempt',
  /** On `retry` events: the delay before the next attempt, ms. */
  retryDelay: 'switchyard.retry.delay_ms',
  /** On process spans: what handle() made of the delivery (acked, deadLettered, duplicate, ...). */
  outcome: 'switchyard.outcome',
  /** On process spans that dead-lettered: the dead-letter topic. */
  deadLetterTopic: 'switchyard.dead_letter.topic',
  /** On the link from a dead-letter send to the process span that failed: `dead-letter`. */
  linkKind: 'switchyard.link.kind',
} as const;

/** Metric names: the four messaging metrics, then Switchyard's gauges fed by inspect(). */
export const METRIC = {
  sent: 'messaging.client.sent.messages',
  consumed: 'messaging.client.consumed.messages',
  operationDuration: 'messaging.client.operation.duration',
  processDuration: 'messaging.process.duration',
  backlog: 'switchyard.consumer.backlog',
  inFlight: 'switchyard.consumer.in_flight',
  lagAge: 'switchyard.consumer.lag.age',
  dlqDepth: 'switchyard.dlq.depth',
} as const;

/** Span event names. */
export const EVENT = { attempt: 'attempt', retry: 'retry' } as const;

/** `messaging.system` per transport name: the well-known values where one exists. */
export const SYSTEMS: Readonly<Record<string, string>> = {
  kafka: 'kafka',
  rabbitmq: 'rabbitmq',
  sqs: 'aws_sqs',
  // No well-known value for NATS (nor for the in-process transport): the transport's own name.
  nats: 'nats',
  memory: 'memory',
};

/** The bucket boundaries the conventions advise for both duration histograms, seconds. */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
