import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  launchPrivatePostgres,
  type PgTestSchema,
  pgTestSchema,
  runStoreConformance,
  storeUrl,
} from '@switchyard/conformance';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { pgIdempotencyStore } from '../src/index.ts';

const url = storeUrl('postgres');
const table = 'sy_idempotency';
let schema: PgTestSchema;
beforeAll(async () => {
  schema = await pgTestSchema(url);
});
afterAll(async () => {
  await schema?.drop();
});

const child = fileURLToPath(new URL('./fixtures/claim-child.ts', import.meta.url));

runStoreConformance({
  name: 'pg',
  async store(options) {
    const pool = options?.separateConnection ? schema.newPool(2) : schema.pool;
    return pgIdempotencyStore(pool, { table, cleanupIntervalMs: 0 });
  },
  spawnClaimer(key, token, leaseMs) {
    return spawn(
      process.execPath,
      ['--conditions=@switchyard/source', child, url, schema.schema, table, key, token, String(leaseMs)],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
  },
  async privateServer() {
    const server = await launchPrivatePostgres();
    const pool = new pg.Pool({ connectionString: server.url, max: 2 });
    pool.on('error', () => {});
    return {
      store: async () => pgIdempotencyStore(pool, { cleanupIntervalMs: 0 }),
      restart: server.restart,
      stop: async () => {
        await pool.end().catch(() => {});
        await server.stop();
      },
    };
  },
});
