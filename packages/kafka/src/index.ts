import type { TransportFactory } from '@switchyard/core';
import type { KafkaOptions } from './options.ts';
import { KafkaTransport } from './transport.ts';

export type { KafkaOptions } from './options.ts';
export { parseKafkaUrl } from './options.ts';
export type { PartitionLag } from './provisioner.ts';
export type { BrokerAddress } from './socket-factory.ts';
export { KafkaTransport } from './transport.ts';

declare module '@switchyard/core' {
  interface ConnectOptions {
    /** Options of the Kafka transport, used when `url` is `kafka://…`. */
    kafka?: KafkaOptions;
  }
}

/** What `connect({ url: 'kafka://…' })` calls: a transport whose producer is already connected. */
export const create: TransportFactory = async ({ url, href, options, logger, logLevel }) => {
  const transport = new KafkaTransport(href ?? url, (options ?? {}) as KafkaOptions, {
    ...(logger ? { logger } : {}),
    ...(logLevel ? { logLevel } : {}),
  });
  try {
    await transport.connect();
  } catch (error) {
    await transport.close();
    throw error;
  }
  return transport;
};
