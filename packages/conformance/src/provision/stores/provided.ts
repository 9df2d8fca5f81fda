import type { ProvidedStores, StoreName } from './types.ts';

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
