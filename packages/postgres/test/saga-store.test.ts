import { randomBytes, randomUUID } from 'node:crypto';
import { createEvent } from '@switchyard/core';
import { type SagaChange, SagaConcurrencyError } from '@switchyard/saga';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sagaStoreSuite } from '../../saga/test/saga-suite.ts';
import { pgSagaStore, type SagaOutbox } from '../src/index.ts';

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

// The outbox path: messages and timeout events are written in the commit's transaction.
describe('pgSagaStore with an outbox', () => {
  const change = (over: Partial<SagaChange> = {}): SagaChange => ({
    saga: 'ob',
    correlationId: 'c-1',
    eventId: randomUUID(),
    expectedVersion: 0,
    state: { n: 1 },
    completed: false,
    timers: {},
    schedule: [],
    cancel: [],
    messages: [{ topic: 'out', event: createEvent({ type: 'cmd', data: { n: 1 } }, 'test') }],
    ...over,
  });

  it('writes messages with the state, none on a duplicate or a version conflict, and fires timers into it', async () => {
    const pool = new pg.Pool({ connectionString: url, max: 2, options: `-c search_path=${schema}` });
    pool.on('error', () => {});
    try {
      await pool.query('create table test_outbox (topic text, event_id text)');
      const outbox: SagaOutbox = {
        publish: (tx, topic, event) =>
          tx.query('insert into test_outbox (topic, event_id) values ($1, $2)', [topic, event.id]),
      };
      const store = pgSagaStore({ pool, schema, outbox });
      const rows = async () => (await pool.query('select topic, event_id from test_outbox')).rows;

      const first = change();
      expect(await store.commit(first)).toEqual({ status: 'committed', dispatch: [] });
      expect(await rows()).toEqual([{ topic: 'out', event_id: first.messages[0]!.event.id }]);

      expect(await store.commit({ ...first, expectedVersion: 1 })).toEqual({ status: 'duplicate' });
      await expect(store.commit(change())).rejects.toBeInstanceOf(SagaConcurrencyError);
      expect((await rows()).length).toBe(1);

      const token = randomUUID();
      const timeout = createEvent({ id: token, type: 't', data: {} }, 'test');
      await store.commit(
        change({
          expectedVersion: 1,
          messages: [],
          timers: { t: token },
          schedule: [{ timer: 't', token, afterMs: 0, topic: 'timers', event: timeout }],
        }),
      );
      const emitted: unknown[] = [];
      expect(await store.fireDueTimers(10, async (m) => void emitted.push(...m))).toBe(1);
      expect(emitted).toEqual([]);
      expect(await rows()).toContainEqual({ topic: 'timers', event_id: token });
      expect(await store.fireDueTimers(10, async () => {})).toBe(0);
    } finally {
      await pool.end();
    }
  });
});
