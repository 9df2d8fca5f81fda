import type { TransportFactory } from '@switchyard/core/transport';
import type { RabbitMqOptions } from './options.ts';
import { RabbitMqTransport } from './transport.ts';

export type { RabbitMqOptions } from './options.ts';
export { RabbitMqTransport } from './transport.ts';

declare module '@switchyard/core' {
  interface ConnectOptions {
    /** Options of the RabbitMQ transport, used for `amqp://` and `amqps://` URLs. */
    amqp?: RabbitMqOptions;
  }
}

/** What `connect({ url: 'amqp://...' })` calls: opens the connection, so a bad URL or broker fails here. */
export const create: TransportFactory = ({ url, options }) =>
  RabbitMqTransport.create(url, options as RabbitMqOptions | undefined);
