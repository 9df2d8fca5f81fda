import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { sagaStoreSuite } from '../../saga/test/saga-suite.ts';
import { pgSagaStore } from '../src/index.ts';

const url = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test';
// A per-run schema, dropped with everything in it afterwards.
const schema = `sy_test_${randomBytes(6).toString('hex')}`;

beforeAll(async () => {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`create schema ${schema}`);
  await client.end();
});

afterAll(async () => {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`drop schema if exists ${schema} cascade`);
  await client.end();
});

// Each open() is another "process": a pool of its own on the same tables.
sagaStoreSuite({
  name: 'postgres',
  open: async () => {
    const pool = new pg.Pool({ connectionString: url, max: 4 });
    pool.on('error', () => {});
    return { store: pgSagaStore({ pool, schema }), close: () => pool.end() };
  },
});
