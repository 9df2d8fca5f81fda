// Broker provisioning for the conformance suite, as a library: re-exported by the package index.

export { ENV_VARS } from './drivers.ts';
export {
  launchPrivateBroker,
  type PrivateBroker,
  type PrivateBrokerName,
  type RestartTiming,
} from './private-broker.ts';
export type {} from './provided.ts';
export { requireBroker } from './provided.ts';
export { type Resolution, resolveBrokers } from './resolve.ts';
export type {} from './stores/provided.ts';
export { requireStore, storeUrl } from './stores/provided.ts';
export { resolveStores, type StoreResolution, storesFromEnv } from './stores/resolve.ts';
export {
  type ProvidedStores,
  STORE_ENV_VARS,
  STORE_NAMES,
  type StoreEndpoint,
  type StoreName,
} from './stores/types.ts';
export { formatTable } from './table.ts';
export {
  BROKER_NAMES,
  type BrokerEndpoint,
  type BrokerName,
  type ProvidedBrokers,
  type Provisioning,
  type ResolveOptions,
  type SqsEmulator,
} from './types.ts';
