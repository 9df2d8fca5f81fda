import type { TransportFactory } from '@switchyard/core/transport';
import type { RabbitMqOptions } from './options.ts';
import { RabbitMqTransport } from './transport.ts';

export type { RabbitMqOptions } from './options.ts';
export { RabbitMqTransport } from './transport.ts';

declare module '@switchyard/core' {
  // connect() checks `amqp: {...}` against core's shape of these options even without this
  // package in the program; with it, against this precise type (the client's own types).
  interface TransportOptionsRegistry {
    amqp: RabbitMqOptions;
  }
}

/** What `connect({ url: 'amqp://...' })` calls: opens the connection, so a bad URL or broker fails here. */
export const create: TransportFactory = ({ url, options }) =>
  RabbitMqTransport.create(url, options as RabbitMqOptions | undefined);
