export type { ClaimEntry, ClaimResult, IdempotencyStore } from './contract.ts';
export {
  type RedisIdempotencyStore,
  type RedisIdempotencyStoreOptions,
  redisIdempotencyStore,
} from './redis-store.ts';
