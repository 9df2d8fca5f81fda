// PgProjectionStore on its own: what a lease leaves on the pool's connections.
import { type PgTestSchema, pgTestSchema, storeUrl } from '@switchyard/conformance';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgProjectionStore } from '../src/index.ts';

let schema: PgTestSchema;
beforeAll(async () => {
  schema = await pgTestSchema(storeUrl('postgres'));
});
afterAll(async () => {
  await schema?.drop();
});

describe('PgProjectionStore leases', () => {
  // A lease listens to its connection's 'error' and 'end' to learn it lost the lock. A connection
  // given back to the pool still carrying them leaks two listeners per lease (a runner restarted
  // or a projection rebuilt in the same process: MaxListenersExceededWarning after ten), and the
  // stale 'error' listener would swallow an error of whoever takes the connection next.
  it('take their listeners off the connection when released', async () => {
    const pool = schema.newPool(1);
    const store = new PgProjectionStore({ pool });
    const conn = await pool.connect();
    const before = { error: conn.listenerCount('error'), end: conn.listenerCount('end') };
    conn.release();
    for (let i = 0; i < 3; i++) {
      const lease = await store.acquire('leak', 1, { wait: false });
      expect(lease).toBeDefined();
      await lease!.release();
    }
    const again = await pool.connect();
    try {
      expect(again).toBe(conn); // max 1: the same connection every time
      expect({ error: again.listenerCount('error'), end: again.listenerCount('end') }).toEqual(before);
    } finally {
      again.release();
    }
  });
});
