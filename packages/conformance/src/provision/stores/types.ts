import type { Provisioning } from '../types.ts';

/** The databases the state packages (@switchyard/postgres, @switchyard/redis) are tested against. */
export const STORE_NAMES = ['postgres', 'redis'] as const;
export type StoreName = (typeof STORE_NAMES)[number];

/** One store as tests see it (`inject('stores')`): plain data, like a BrokerEndpoint. */
export interface StoreEndpoint {
  readonly name: StoreName;
  readonly available: boolean;
  /** The value of its env var (DATABASE_URL, REDIS_URL); '' if unavailable. */
  readonly url: string;
  readonly provisioned: Provisioning;
  /** Server version as the server reported it; '' if unknown. */
  readonly version: string;
  readonly readyMs: number;
  readonly reason?: string;
}

export type ProvidedStores = Partial<Record<StoreName, StoreEndpoint>>;

export const STORE_ENV_VARS: Record<StoreName, string> = {
  postgres: 'DATABASE_URL',
  redis: 'REDIS_URL',
};
