// @switchyard/conformance: the one suite every transport passes, for transports' own tests only.
export type { Case, CaseContext } from './cases/case.ts';
export { cases } from './cases/index.ts';
export { type Collected, type CollectOptions, collect, quiet, until } from './collect.ts';
export { renderMatrix } from './matrix.ts';
export { runPrefix, uniqueName } from './names.ts';
export * from './provision/index.ts';
export { type CaseResult, type RunResult, readResults } from './results.ts';
export { expectConnectTimeout, silentPeer } from './silent-peer.ts';
export { type PgTestSchema, pgTestSchema } from './stores/pg-schema.ts';
export { launchPrivatePostgres, type PrivatePostgres } from './stores/private-postgres.ts';
export { type RedisTestPrefix, redisTestPrefix } from './stores/redis-prefix.ts';
export { runStoreConformance, storeCases } from './stores/store-suite.ts';
export type { StoreTarget, StoreUnderTest } from './stores/store-target.ts';
export { runConformance } from './suite.ts';
export {
  describeCount,
  isLeftoverTopic,
  type SweepCount,
  type SweepOptions,
  sweepBroker,
} from './sweep/index.ts';
export type { ConformanceTarget } from './target.ts';
export { TcpProxy } from './tcp-proxy.ts';
