import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

export interface RedisTestPrefix {
  /** `sy_test_<random>:`: put every key of the test under it. */
  readonly prefix: string;
  readonly redis: Redis;
  /** Another connection (a second "process"). Closed by cleanup(). */
  newClient(): Redis;
  /** Delete every key under the prefix and disconnect. */
  cleanup(): Promise<void>;
}

/** A per-run Redis key prefix, so tests leave no keys behind. */
export async function redisTestPrefix(url: string): Promise<RedisTestPrefix> {
  const { Redis } = await import('ioredis');
  const prefix = `sy_test_${randomBytes(6).toString('hex')}:`;
  const clients: Redis[] = [];
  const newClient = () => {
    const client = new Redis(url, { maxRetriesPerRequest: 2 });
    client.on('error', () => {});
    clients.push(client);
    return client;
  };
  const redis = newClient();
  return {
    prefix,
    redis,
    newClient,
    cleanup: async () => {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== '0');
      for (const client of clients.splice(0)) client.disconnect();
    },
  };
}
