import type { TransportFactory } from '@switchyard/core/transport';
import type { SqsOptions } from './options.ts';
import { SqsTransport } from './transport.ts';

export type { FanOut, SqsOptions } from './options.ts';
export { ENVELOPE_RESERVE, SqsTransport } from './transport.ts';

declare module '@switchyard/core' {
  // connect() checks `sqs: {...}` against core's shape of these options even without this
  // package in the program; with it, against this precise type (the client's own types).
  interface TransportOptionsRegistry {
    sqs: SqsOptions;
  }
}

/** What `connect({ url: 'sqs://?endpoint=...&region=...' })` calls (see `SqsTransport.create`). */
export const create: TransportFactory = ({ url, options }) =>
  SqsTransport.create(url, options as SqsOptions | undefined);
