import type { Redis } from 'ioredis';
import type { ClaimEntry, ClaimResult, IdempotencyStore } from './contract.ts';
import { CLAIM, CLAIM_MANY, COMPLETE, COMPLETE_MANY, RELEASE, RENEW } from './scripts.ts';

export interface RedisIdempotencyStoreOptions {
  /** Prepended to every key (`<prefix><group>:<event id>`). Default: `sy:idem:`. */
  readonly prefix?: string;
  /** How long a handled id is remembered when handle() names no ttlMs. Default: 7 days. */
  readonly ttlMs?: number;
}

export interface RedisIdempotencyStore extends IdempotencyStore {
  readonly ttlMs: number;
}

interface Scripted {
  syClaim(key: string, token: string, leaseMs: number): Promise<ClaimResult>;
  syRenew(key: string, token: string, leaseMs: number): Promise<number>;
  syComplete(key: string, token: string, ttlMs: number): Promise<number>;
  syRelease(key: string, token: string): Promise<number>;
  /** numberOfKeys first (the window's size), then the keys, the ms, the tokens. */
  syClaimMany(...args: (string | number)[]): Promise<ClaimResult[]>;
  syCompleteMany(...args: (string | number)[]): Promise<number[]>;
}

/**
 * Idempotency in Redis: one key per (group, event id) with a TTL (Redis expires what is stale, no
 * cleanup job). Every check-and-write is a Lua script, so a stale owner cannot overwrite a newer
 * claim. claimMany/completeMany send the whole window as one script call over all its keys: one
 * round trip and one command, where a pipeline of one script per key cost Redis (which shares the
 * machine's cores with the handlers) a script call per key. On a Redis Cluster, whose keys of one
 * window lie in different slots, they send one pipeline of per-key scripts instead.
 *
 * Durability is your Redis's: without AOF/RDB persistence a restart forgets every done mark, and
 * events handled before it are handled again if redelivered.
 */
export function redisIdempotencyStore(
  redis: Redis,
  options: RedisIdempotencyStoreOptions = {},
): RedisIdempotencyStore {
  const prefix = options.prefix ?? 'sy:idem:';
  const ttlMs = options.ttlMs ?? 7 * 86_400_000;
  // defineCommand sends EVALSHA and falls back to EVAL once when the script cache is empty
  // (after a Redis restart or SCRIPT FLUSH).
  if (!('syClaim' in redis)) {
    redis.defineCommand('syClaim', { numberOfKeys: 1, lua: CLAIM });
    redis.defineCommand('syRenew', { numberOfKeys: 1, lua: RENEW });
    redis.defineCommand('syComplete', { numberOfKeys: 1, lua: COMPLETE });
    redis.defineCommand('syRelease', { numberOfKeys: 1, lua: RELEASE });
    redis.defineCommand('syClaimMany', { lua: CLAIM_MANY });
    redis.defineCommand('syCompleteMany', { lua: COMPLETE_MANY });
  }
  const cluster = (redis as { isCluster?: boolean }).isCluster === true;
  const r = redis as unknown as Redis & Scripted;
  const k = (key: string) => prefix + key;
  /** A window's script arguments: its size (numberOfKeys), the keys, the ms, the tokens. */
  const windowArgs = (entries: readonly ClaimEntry[], ms: number): (string | number)[] => {
    const n = entries.length;
    const args: (string | number)[] = new Array(2 * n + 2);
    args[0] = n;
    args[n + 1] = ms;
    for (let i = 0; i < n; i++) {
      args[i + 1] = prefix + entries[i]!.key;
      args[n + 2 + i] = entries[i]!.token;
    }
    return args;
  };

  const results = <T>(answers: [Error | null, unknown][] | null): T[] =>
    (answers ?? []).map(([error, value]) => {
      if (error) throw error;
      return value as T;
    });

  return {
    ttlMs,
    claim: (key, token, leaseMs) => r.syClaim(k(key), token, leaseMs),
    async claimMany(claims, leaseMs) {
      if (claims.length === 0) return [];
      if (!cluster) return r.syClaimMany(...windowArgs(claims, leaseMs));
      const pipeline = r.pipeline() as unknown as Scripted & {
        exec(): Promise<[Error | null, unknown][] | null>;
      };
      for (const claim of claims) pipeline.syClaim(k(claim.key), claim.token, leaseMs);
      return results<ClaimResult>(await pipeline.exec());
    },
    renew: async (key, token, leaseMs) => (await r.syRenew(k(key), token, leaseMs)) === 1,
    complete: async (key, token, ttl) => (await r.syComplete(k(key), token, ttl)) === 1,
    async completeMany(entries, ttl) {
      if (entries.length === 0) return [];
      if (!cluster) return (await r.syCompleteMany(...windowArgs(entries, ttl))).map((n) => n === 1);
      const pipeline = r.pipeline() as unknown as Scripted & {
        exec(): Promise<[Error | null, unknown][] | null>;
      };
      for (const entry of entries) pipeline.syComplete(k(entry.key), entry.token, ttl);
      return results<number>(await pipeline.exec()).map((n) => n === 1);
    },
    async release(key, token) {
      await r.syRelease(k(key), token);
    },
  };
}
