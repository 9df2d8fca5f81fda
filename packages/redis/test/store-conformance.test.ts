import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  type RedisTestPrefix,
  redisTestPrefix,
  runStoreConformance,
  storeUrl,
} from '@switchyard/conformance';
import { afterAll, beforeAll } from 'vitest';
import { redisIdempotencyStore } from '../src/index.ts';

const url = storeUrl('redis');
let keys: RedisTestPrefix;
beforeAll(async () => {
  keys = await redisTestPrefix(url);
});
afterAll(async () => {
  await keys?.cleanup();
});

const child = fileURLToPath(new URL('./fixtures/claim-child.ts', import.meta.url));

runStoreConformance({
  name: 'redis',
  async store(options) {
    return redisIdempotencyStore(options?.separateConnection ? keys.newClient() : keys.redis, {
      prefix: keys.prefix,
    });
  },
  spawnClaimer(key, token, leaseMs) {
    return spawn(
      process.execPath,
      ['--conditions=@switchyard/source', child, url, keys.prefix, key, token, String(leaseMs)],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
  },
  restartNotApplicable:
    'Redis here runs without persistence (no AOF, no RDB saves): a restart forgets every key by design; durability is the Redis configuration',
});
