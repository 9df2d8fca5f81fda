// Type-only (compiled by `pnpm typecheck`, not run): core's shape of each transport's options, which
// connect() checks when the transport package is not imported, has the same keys as the
// transport's own options type. A key added to one and not the other fails here.
import type {
  KafkaConnectOptions,
  NatsConnectOptions,
  RabbitMqConnectOptions,
  SqsConnectOptions,
} from '@switchyard/core';
import type { KafkaOptions } from '@switchyard/kafka';
import type { NatsOptions } from '@switchyard/nats';
import type { RabbitMqOptions } from '@switchyard/rabbitmq';
import type { SqsOptions } from '@switchyard/sqs';

type SameKeys<A, B> = [Exclude<keyof A, keyof B>, Exclude<keyof B, keyof A>] extends [never, never]
  ? true
  : false;

export const kafka: SameKeys<KafkaOptions, KafkaConnectOptions> = true;
export const amqp: SameKeys<RabbitMqOptions, RabbitMqConnectOptions> = true;
export const sqs: SameKeys<SqsOptions, SqsConnectOptions> = true;
export const nats: SameKeys<NatsOptions, NatsConnectOptions> = true;
// The precise types stay assignable to core's shapes: what one accepts, the other does too.
export const kafkaFits = (o: KafkaOptions): KafkaConnectOptions => o;
export const amqpFits = (o: RabbitMqOptions): RabbitMqConnectOptions => o;
export const sqsFits = (o: SqsOptions): SqsConnectOptions => o;
export const natsFits = (o: NatsOptions): NatsConnectOptions => o;
