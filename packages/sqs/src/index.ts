import type { TransportFactory } from '@switchyard/core/transport';
import type { SqsOptions } from './options.ts';
import { SqsTransport } from './transport.ts';

export type { FanOut, SqsOptions } from './options.ts';
export { ENVELOPE_RESERVE, SqsTransport } from './transport.ts';

declare module '@switchyard/core' {
  interface ConnectOptions {
    /** Settings of the `sqs://` transport (`@switchyard/sqs`). */
    sqs?: SqsOptions;
  }
}

/** What `connect({ url: 'sqs://?endpoint=...&region=...' })` calls (see `SqsTransport.create`). */
export const create: TransportFactory = ({ url, options }) =>
  SqsTransport.create(url, options as SqsOptions | undefined);
