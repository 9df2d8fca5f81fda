import type { TransportFactory } from '@switchyard/core/transport';
import type { KafkaOptions } from './options.ts';
import { KafkaTransport } from './transport.ts';

export { AckNotCommittedError } from './errors.ts';
export type { KafkaOptions } from './options.ts';
export { parseKafkaUrl } from './options.ts';
export type { BrokerAddress } from './socket-factory.ts';
export type { PartitionLag } from './topology.ts';
export { KafkaTransport } from './transport.ts';

declare module '@switchyard/core' {
  // connect() checks `kafka: {...}` against core's shape of these options even without this
  // package in the program; with it, against this precise type (the client's own types).
  interface TransportOptionsRegistry {
    kafka: KafkaOptions;
  }
}

/** What `connect({ url: 'kafka://…' })` calls (see `KafkaTransport.create`); the URL as given keeps a host list. */
export const create: TransportFactory = ({ href, url, options, logger, logLevel }) =>
  KafkaTransport.create(href ?? url, options as KafkaOptions | undefined, {
    ...(logger ? { logger } : {}),
    ...(logLevel ? { logLevel } : {}),
  });
