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
