import type { BrokerName, ProvidedBrokers } from './types.ts';

// `inject('brokers')` in a test is typed by this augmentation; the global setup provides it.
declare module 'vitest' {
  export interface ProvidedContext {
    brokers: ProvidedBrokers;
  }
}

/**
 * The endpoint of `name` from `inject('brokers')`, or a clear failure: a transport's tests fail
 * (never skip) when their broker could not be made ready, and say why.
 */
export function requireBroker(brokers: ProvidedBrokers | undefined, name: BrokerName): string {
  const broker = brokers?.[name];
  if (!broker) {
    throw new Error(
      `${name} was not provisioned for this run (BROKERS=${process.env.BROKERS ?? ''}); include it in BROKERS`,
    );
  }
  if (!broker.available) throw new Error(`${name} is unavailable: ${broker.reason ?? 'no reason recorded'}`);
  return broker.url;
}
