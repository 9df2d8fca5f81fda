import type { TransportFactory } from '@switchyard/core';
import type { KafkaOptions } from './options.ts';
import { KafkaTransport } from './transport.ts';

export type { KafkaOptions } from './options.ts';
export { parseKafkaUrl } from './options.ts';
export type { PartitionLag } from './provisioner.ts';
export type { BrokerAddress } from './socket-factory.ts';
export { KafkaTransport } from './transport.ts';

declare module '@switchyard/core' {
  // connect() checks `kafka: {...}` against core's shape of these options even without this
  // package in the program; with it, against this precise type (the client's own types).
  interface TransportOptionsRegistry {
    kafka: KafkaOptions;
  }
}

/** What `connect({ url: 'kafka://…' })` calls: a transport whose producer is already connected. */
export const create: TransportFactory = async ({ url, href, options }) => {
  const transport = new KafkaTransport(href ?? url, (options ?? {}) as KafkaOptions);
  try {
    await transport.connect();
  } catch (error) {
    await transport.close();
    throw error;
  }
  return transport;
};
