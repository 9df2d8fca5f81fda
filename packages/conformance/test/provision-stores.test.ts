import { describe, expect, it } from 'vitest';
import { resolveStores, storesFromEnv } from '../src/provision/stores/resolve.ts';

describe('store provisioning', () => {
  it('reads STORES', () => {
    expect(storesFromEnv('')).toEqual(['postgres', 'redis']);
    expect(storesFromEnv('none')).toEqual([]);
    expect(storesFromEnv('Redis')).toEqual(['redis']);
    expect(() => storesFromEnv('mysql')).toThrow(/unknown store\(s\) mysql/);
  });

  it('an env var that does not answer → unavailable with the reason, the password masked', async () => {
    const saved = process.env.DATABASE_URL;
    process.env.DATABASE_URL = 'postgres://root:secret@127.0.0.1:1/test';
    try {
      const { stores } = await resolveStores(['postgres']);
      expect(stores[0]).toMatchObject({ name: 'postgres', available: false, provisioned: 'env' });
      expect(stores[0]!.reason).toMatch(
        /DATABASE_URL=postgres:\/\/\*\*\*@127\.0\.0\.1:1\/test does not answer/,
      );
      expect(stores[0]!.reason).not.toContain('secret');
    } finally {
      if (saved === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = saved;
    }
  }, 30_000);

  it('finds the machine PostgreSQL and Redis and reports their versions', async () => {
    const saved = { pg: process.env.DATABASE_URL, redis: process.env.REDIS_URL };
    const { stores } = await resolveStores(['postgres', 'redis']);
    expect(saved).toBeDefined();
    for (const store of stores) {
      expect(store.available, store.reason).toBe(true);
      expect(store.version).toMatch(store.name === 'postgres' ? /^PostgreSQL \d+/ : /^Redis \d+/);
    }
  });
});
