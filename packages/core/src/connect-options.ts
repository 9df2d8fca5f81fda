import type { Logger, LogThreshold } from './logger.ts';

/**
 * What `connect()` takes. Each transport package adds its own key by declaration merging:
 * `declare module '@switchyard/core' { interface ConnectOptions { kafka?: KafkaOptions } }`.
 */
export interface ConnectOptions {
  /** Broker URL; its scheme picks the transport: memory:// kafka:// amqp(s):// sqs:// nats:// */
  url: string;
  /** CloudEvents `source` for what this bus publishes (a URI-reference, e.g. `billing-service`). */
  source: string;
  /**
   * Where log lines go: the bus's (what close() waits for) and the broker client's (Kafka's
   * kafkajs lines, ...), never with credentials. Default: one line per entry on stderr.
   */
  logger?: Logger;
  /** The least level written to `logger`; `nothing` silences it. Default: `warn`. */
  logLevel?: LogThreshold;
}
