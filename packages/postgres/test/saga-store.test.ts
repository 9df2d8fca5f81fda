import { randomUUID } from 'node:crypto';
import { type PgTestSchema, pgTestSchema, storeUrl } from '@switchyard/conformance';
import { createEvent } from '@switchyard/core';
import { type SagaChange, SagaConcurrencyError } from '@switchyard/saga';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sagaStoreSuite } from '../../saga/test/saga-suite.ts';
import { pgSagaStore, type SagaOutbox } from '../src/index.ts';

// A per-run schema, dropped with everything in it (and its pools closed) afterwards.
let test: PgTestSchema;
beforeAll(async () => {
  test = await pgTestSchema(storeUrl('postgres'));
});
afterAll(async () => {
  await test?.drop();
});

// Each open() is another "process": a pool of its own on the same tables. The store is given the
// schema by name too (not only through search_path), which is what its `schema` option is for.
sagaStoreSuite({
  name: 'postgres',
  open: async () => {
    const pool = test.newPool(4);
    return { store: pgSagaStore({ pool, schema: test.schema }), close: () => pool.end() };
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
    const pool = test.newPool(2);
    const schema = test.schema;
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
