import { type ProvidedStores, STORE_ENV_VARS, type StoreName } from './types.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    stores: ProvidedStores;
  }
}

/** The URL of `name` from `inject('stores')`, or a clear failure (never a silent skip). */
export function requireStore(stores: ProvidedStores | undefined, name: StoreName): string {
  const store = stores?.[name];
  if (!store) {
    throw new Error(
      `${name} was not provisioned for this run (STORES=${process.env.STORES ?? ''}); include it in STORES`,
    );
  }
  if (!store.available) throw new Error(`${name} is unavailable: ${store.reason ?? 'no reason recorded'}`);
  return store.url;
}

/**
 * The URL the global setup exported for `name` (DATABASE_URL, REDIS_URL), or a clear failure. For
 * test files outside this package, where `inject('stores')` may be typed by another vitest copy.
 */
export function storeUrl(name: StoreName): string {
  const url = process.env[STORE_ENV_VARS[name]];
  if (!url) {
    throw new Error(
      `${name} is not available to this test: ${STORE_ENV_VARS[name]} is unset (the global setup sets it when ${name} answers; see its table for the reason)`,
    );
  }
  return url;
}
