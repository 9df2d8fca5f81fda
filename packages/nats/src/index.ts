import type { TransportFactory } from '@switchyard/core/transport';
import type { NatsOptions } from './options.ts';
import { NatsTransport } from './transport.ts';

export type { NatsOptions } from './options.ts';
export { NatsTransport } from './transport.ts';

/** What `connect({ url: 'nats://...' })` calls; `options` is the value under the `nats` key. */
export const create: TransportFactory = ({ url, options }) =>
  NatsTransport.create(url, options as NatsOptions | undefined);

declare module '@switchyard/core' {
  // connect() checks `nats: {...}` against core's shape of these options even without this
  // package in the program; with it, against this precise type (the client's own types).
  interface TransportOptionsRegistry {
    nats: NatsOptions;
  }
}
