import type { TransportFactory } from '@switchyard/core/transport';
import { resolveOptions, type SqsOptions } from './options.ts';
import { SqsTransport } from './transport.ts';

export type { FanOut, SqsOptions } from './options.ts';
export { ENVELOPE_RESERVE, SqsTransport } from './transport.ts';

declare module '@switchyard/core' {
  interface ConnectOptions {
    /** Settings of the `sqs://` transport (`@switchyard/sqs`). */
    sqs?: SqsOptions;
  }
}

/**
 * What `connect({ url: 'sqs://?endpoint=...&region=...' })` calls. No request is made here: the
 * first provision or publish decides `fanOut: 'auto'` and creates what is missing.
 */
export const create: TransportFactory = async ({ url, options }) =>
  new SqsTransport(resolveOptions(url, (options ?? {}) as SqsOptions));
