import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type IdempotencyStore, memoryIdempotencyStore } from '@switchyard/core';
import type { Pool } from 'pg';
import { storeUrl } from '../provision/stores/provided.ts';
import { pgTestSchema } from './pg-schema.ts';
import { redisTestPrefix } from './redis-prefix.ts';

/** The idempotency stores the broker `idempotency` cases run with: matrix rows idempotency, -pg, -redis. */
export type StoreKind = 'memory' | 'pg' | 'redis';

/** A store on its own table / key prefix, and the cleanup that removes them. */
export interface ProvidedStore {
  readonly store: IdempotencyStore;
  dispose(): Promise<void>;
}

/**
 * A fresh store of `kind` for one case. @switchyard/postgres and @switchyard/redis depend on this
 * package for their own tests, so it cannot depend on them: they are loaded the way connect()
 * loads a transport, from the application (the workspace root, which has them as devDependencies).
 */
export async function provideStore(kind: StoreKind): Promise<ProvidedStore> {
  if (kind === 'memory') return { store: memoryIdempotencyStore(), dispose: async () => {} };
  if (kind === 'pg') {
    const { pgIdempotencyStore } = await fromApplication<{
      pgIdempotencyStore(pool: Pool, options: { table: string; cleanupIntervalMs: number }): IdempotencyStore;
    }>('@switchyard/postgres');
    const schema = await pgTestSchema(storeUrl('postgres'), { max: 4 });
    return {
      store: pgIdempotencyStore(schema.pool, { table: 'sy_idempotency', cleanupIntervalMs: 0 }),
      dispose: () => schema.drop(),
    };
  }
  const { redisIdempotencyStore } = await fromApplication<{
    redisIdempotencyStore(redis: unknown, options: { prefix: string }): IdempotencyStore;
  }>('@switchyard/redis');
  const keys = await redisTestPrefix(storeUrl('redis'));
  return { store: redisIdempotencyStore(keys.redis, { prefix: keys.prefix }), dispose: () => keys.cleanup() };
}

async function fromApplication<T>(name: string): Promise<T> {
  let resolved: string;
  try {
    resolved = createRequire(join(process.cwd(), 'index.js')).resolve(name);
  } catch (error) {
    throw new Error(
      `The idempotency-${name.endsWith('postgres') ? 'pg' : 'redis'} cases need ${name} installed where the tests run (${process.cwd()}); the workspace root has it as a devDependency`,
      { cause: error },
    );
  }
  return (await import(pathToFileURL(resolved).href)) as T;
}
