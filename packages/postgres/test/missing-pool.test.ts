// A factory given no pool (plain JavaScript, a misspelt option) says so where it is called, naming
// itself, rather than failing later with a TypeError from inside its first query.
import { connect } from '@switchyard/core';
import { describe, expect, it } from 'vitest';
import {
  eventStore,
  outboxRelay,
  PgProjectionStore,
  pgIdempotencyStore,
  pgInbox,
  pgOutbox,
  pgSagaStore,
} from '../src/index.ts';

describe('a factory without a pool', () => {
  it('throws a TypeError that names the factory and what it needs', async () => {
    const bus = await connect({ url: 'memory://missing-pool', source: 'test' });
    try {
      const calls: Array<[string, () => unknown]> = [
        ['pgOutbox()', () => pgOutbox({ source: 'test' } as never)],
        ['outboxRelay()', () => outboxRelay({ bus } as never)],
        ['pgIdempotencyStore()', () => pgIdempotencyStore(undefined as never)],
        ['pgIdempotencyStore()', () => pgInbox({ query: async () => ({ rows: [], rowCount: 0 }) } as never)],
        ['pgSagaStore()', () => pgSagaStore({} as never)],
        ['new PgProjectionStore()', () => new PgProjectionStore({} as never)],
      ];
      for (const [name, call] of calls) {
        expect(call, name).toThrow(TypeError);
        expect(call, name).toThrow(`${name} needs \`pool\``);
      }
      await expect(eventStore({} as never)).rejects.toThrow('eventStore() needs `pool`');
    } finally {
      await bus.close();
    }
  });
});

describe('a pool handed to a factory', () => {
  it('gives each client it opens an error listener, so a connection lost while checked out ends no process', async () => {
    const { default: pg } = await import('pg');
    const { storeUrl } = await import('@switchyard/conformance');
    const pool = new pg.Pool({ connectionString: storeUrl('postgres'), max: 2 });
    try {
      // pg-pool takes its own listener off a client it hands out: a plain checkout has none.
      const before = await pool.connect();
      expect(before.listenerCount('error')).toBe(0);
      before.release(true);
      pgOutbox({ pool, source: 'test' });
      pgOutbox({ pool, source: 'test' });
      const after = await pool.connect();
      // One listener however many factories were given the pool.
      expect(after.listenerCount('error')).toBe(1);
      after.release();
    } finally {
      await pool.end();
    }
  });
});
