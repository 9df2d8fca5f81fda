export type { ClaimResult, IdempotencyStoreV2 } from './contract.ts';
export {
  type RedisIdempotencyStore,
  type RedisIdempotencyStoreOptions,
  redisIdempotencyStore,
} from './redis-store.ts';
