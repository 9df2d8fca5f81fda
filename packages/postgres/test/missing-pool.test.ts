// A factory given no pool (plain JavaScript, a misspelt option) says so where it is called, naming
// itself, rather than failing later with a TypeError from inside its first query.
import { connect, UnsupportedOptionError } from '@switchyard/core';
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

describe('a store given an interval or batch it cannot use', () => {
  // cleanupIntervalMs Infinity ('rarely') ran the cleanup DELETE every millisecond: a timer runs
  // anything over 2^31 - 1 ms after 1 ms.
  it('refuses it when made, naming the option', () => {
    const pool = { query: async () => ({ rows: [], rowCount: 0 }), connect: async () => ({}) } as never;
    const calls: Array<[() => unknown, RegExp]> = [
      [
        () => pgIdempotencyStore(pool, { cleanupIntervalMs: Number.POSITIVE_INFINITY }),
        /cleanupIntervalMs must be/,
      ],
      [() => pgIdempotencyStore(pool, { cleanupIntervalMs: Number.NaN }), /cleanupIntervalMs must be/],
      [() => pgIdempotencyStore(pool, { cleanupBatch: 0 }), /cleanupBatch must be a whole number from 1/],
      [
        () => new PgProjectionStore({ pool, lockPollMs: 0 }),
        /lockPollMs must be a number of milliseconds from 1/,
      ],
    ];
    for (const [call, message] of calls) {
      expect(call).toThrow(UnsupportedOptionError);
      expect(call).toThrow(message);
    }
    // 0 still turns the cleanup off.
    expect(() => pgIdempotencyStore(pool, { cleanupIntervalMs: 0 })).not.toThrow();
  });
});
