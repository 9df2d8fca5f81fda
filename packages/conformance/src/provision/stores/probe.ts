import type { StoreName } from './types.ts';

/** A real round trip with the client the state package uses; answers the server's version. */
export async function probeStore(name: StoreName, url: string): Promise<{ version: string }> {
  return name === 'postgres' ? probePostgres(url) : probeRedis(url);
}

async function probePostgres(url: string): Promise<{ version: string }> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  // An 'error' event after connect (server gone) must not crash the setup process.
  client.on('error', () => {});
  await client.connect();
  try {
    const { rows } = await client.query<{ v: string }>(`select current_setting('server_version') as v`);
    return { version: `PostgreSQL ${rows[0]?.v ?? '?'}` };
  } finally {
    await client.end().catch(() => {});
  }
}

async function probeRedis(url: string): Promise<{ version: string }> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 3_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => {});
  try {
    await redis.connect();
    const info = await redis.info('server');
    const version = /redis_version:([^\r\n]+)/.exec(info)?.[1] ?? '?';
    const persistence = await redis.info('persistence');
    // Say whether it keeps anything on disk: the Redis store is only as durable as that.
    const aof = /aof_enabled:1/.test(persistence);
    const rdb = await redis.config('GET', 'save').catch(() => []);
    const saves = Array.isArray(rdb) && typeof rdb[1] === 'string' && rdb[1].trim() !== '';
    return { version: `Redis ${version}${aof || saves ? '' : ', no persistence'}` };
  } finally {
    redis.disconnect();
  }
}
