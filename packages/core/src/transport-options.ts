import type { ConnectionOptions } from 'node:tls';
import type { Logger, LogThreshold } from './logger.ts';

// The options of each transport, as `connect()` takes them, declared here so that
// `connect({ url, amqp: { ... } })` type-checks in a project that never imports the transport
// package (connect() loads it by the URL's scheme, so nothing else needs to). Settings handed
// through to a broker client are typed loosely here; a project that imports the transport gets
// the client's own types instead (TransportOptionsRegistry). Each option is documented in its
// transport's README and options.ts; a type test keeps these keys equal to the transport's.

/** `kafka://` (@switchyard/kafka). */
export interface KafkaConnectOptions {
  readonly client?: 'kafkajs' | 'platformatic';
  readonly connectTimeoutMs?: number;
  readonly brokers?: readonly string[];
  readonly clientId?: string;
  readonly ssl?: boolean | ConnectionOptions;
  readonly sasl?: { readonly mechanism: string } & Readonly<Record<string, unknown>>;
  readonly groupIdFor?: (topic: string, group: string) => string;
  readonly partitions?: number;
  readonly replicationFactor?: number;
  readonly topicConfig?: Readonly<Record<string, string>>;
  readonly maxMessageBytes?: number;
  readonly sessionTimeoutMs?: number;
  readonly heartbeatIntervalMs?: number;
  readonly rebalanceTimeoutMs?: number;
  readonly maxWaitTimeMs?: number;
  readonly maxUncommittedPerPartition?: number;
  readonly drainTimeoutMs?: number;
  readonly publishRetries?: number;
  readonly connectionTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  readonly rewriteAddress?: (advertised: { readonly host: string; readonly port: number }) => {
    readonly host: string;
    readonly port: number;
  };
  readonly logLevel?: LogThreshold;
  readonly logger?: Logger;
}

/** `amqp://` and `amqps://` (@switchyard/rabbitmq). */
export interface RabbitMqConnectOptions {
  readonly connectTimeoutMs?: number;
  readonly singleActiveConsumer?: boolean;
  readonly maxMessageBytes?: number;
  readonly publishTimeoutMs?: number;
  readonly requireRoute?: boolean;
  readonly reconnect?: { readonly initialDelayMs?: number; readonly maxDelayMs?: number };
  readonly heartbeatSeconds?: number;
  readonly delayTiersMs?: readonly number[];
  readonly namespace?: string;
  readonly connectionName?: string;
  /** Socket options handed to amqplib (TLS certificates and the like). */
  readonly socket?: object;
  /** The management HTTP API (`http://host:15672`), for `bus.inspect()` to count unacked messages. */
  readonly managementUrl?: string;
}

/** `sqs://` (@switchyard/sqs). */
export interface SqsConnectOptions {
  readonly connectTimeoutMs?: number;
  readonly endpoint?: string;
  readonly region?: string;
  /** Handed to the AWS SDK: static credentials or a provider function. */
  readonly credentials?: object;
  readonly fanOut?: 'sns' | 'queues' | 'none' | 'auto';
  readonly fifo?: boolean;
  readonly prefix?: string;
  readonly visibilityTimeoutSeconds?: number;
  readonly waitTimeSeconds?: number;
  readonly receiveConcurrency?: number;
  readonly maxMessageBytes?: number;
  readonly discoveryTtlMs?: number;
  readonly queueAttributes?: Readonly<Record<string, string>>;
  readonly manageQueuePolicy?: boolean;
}

/** `nats://` (@switchyard/nats). */
export interface NatsConnectOptions {
  readonly connectTimeoutMs?: number;
  readonly subjectPrefix?: string;
  readonly streamPrefix?: string;
  readonly ackWaitMs?: number;
  readonly duplicateWindowMs?: number;
  readonly maxAckPending?: number;
  readonly pullExpiresMs?: number;
  readonly requestTimeoutMs?: number;
  /** Stream settings handed to JetStream (all but name and subjects). */
  readonly stream?: Readonly<Record<string, unknown>>;
  /** Connection options handed to nats.js. */
  readonly connection?: Readonly<Record<string, unknown>>;
}

/**
 * Where a transport package puts its precise options type (with its client's own types), by
 * declaration merging: `declare module '@switchyard/core' { interface TransportOptionsRegistry { amqp: RabbitMqOptions } }`.
 * Without that package in the program, `connect()` checks the shape declared above.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by declaration merging in the transport packages
export interface TransportOptionsRegistry {}

/** The registered type when the transport package is in the program, else core's shape. */
export type TransportOptionsFor<Key extends string, Shape> = Key extends keyof TransportOptionsRegistry
  ? TransportOptionsRegistry[Key]
  : Shape;
