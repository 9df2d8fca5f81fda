import type { Logger, LogThreshold } from './logger.ts';
import type {
  KafkaConnectOptions,
  NatsConnectOptions,
  RabbitMqConnectOptions,
  SqsConnectOptions,
  TransportOptionsFor,
} from './transport-options.ts';

/** What `connect()` takes. */
export interface ConnectOptions {
  /** Broker URL; its scheme picks the transport: memory:// kafka:// amqp(s):// sqs:// nats:// */
  url: string;
  /**
   * CloudEvents `source` for what this bus publishes (a URI-reference, e.g. `billing-service`).
   * Required: connect() throws InvalidEventError without it, before opening a connection.
   */
  source: string;
  /**
   * Where log lines go: the bus's (what close() waits for) and the broker client's (Kafka's
   * kafkajs lines, ...), never with credentials. Default: one line per entry on stderr.
   */
  logger?: Logger;
  /** The least level written to `logger`; `nothing` silences it. Default: `warn`. */
  logLevel?: LogThreshold;
  /** Options of the Kafka transport, used when `url` is `kafka://…` (see @switchyard/kafka). */
  kafka?: TransportOptionsFor<'kafka', KafkaConnectOptions>;
  /** Options of the RabbitMQ transport, used for `amqp://` and `amqps://` URLs (see @switchyard/rabbitmq). */
  amqp?: TransportOptionsFor<'amqp', RabbitMqConnectOptions>;
  /** Options of the `sqs://` transport (see @switchyard/sqs). */
  sqs?: TransportOptionsFor<'sqs', SqsConnectOptions>;
  /** Options of the NATS JetStream transport, used when the URL is `nats://` (see @switchyard/nats). */
  nats?: TransportOptionsFor<'nats', NatsConnectOptions>;
}
