/**
 * What `connect()` takes. Each transport package adds its own key by declaration merging:
 * `declare module '@switchyard/core' { interface ConnectOptions { kafka?: KafkaOptions } }`.
 */
export interface ConnectOptions {
  /** Broker URL; its scheme picks the transport: memory:// kafka:// amqp(s):// sqs:// nats:// */
  url: string;
  /** CloudEvents `source` for what this bus publishes (a URI-reference, e.g. `billing-service`). */
  source: string;
}
