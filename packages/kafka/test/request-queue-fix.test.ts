import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { quietIdleRequestQueues } from '../src/request-queue-fix.ts';

interface Queue {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
  destroy(): void;
}

const require = createRequire(import.meta.url);
const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as new (options: object) => Queue;
const logger = { debug() {}, info() {}, warn() {}, error() {} };
const queue = (): Queue =>
  new RequestQueue({ maxInFlightRequests: 1, requestTimeout: 30_000, clientId: 't', broker: 'b', logger });

const made: Queue[] = [];
afterEach(() => {
  for (const q of made.splice(0)) q.destroy();
});

function track(q: Queue): Queue {
  made.push(q);
  return q;
}

/** How often `checkPendingRequests` runs on `q` within `ms`. */
async function checksWithin(q: Queue, ms: number): Promise<number> {
  let checks = 0;
  const check = q.checkPendingRequests.bind(q);
  q.checkPendingRequests = () => {
    checks += 1;
    check();
  };
  q.checkPendingRequests();
  await new Promise((resolve) => setTimeout(resolve, ms));
  return checks - 1;
}

describe('kafkajs request queue timer (quietIdleRequestQueues)', () => {
  it('kafkajs as released re-arms a 1 ms timer on an idle queue: the bug this works around', async () => {
    const q = track(queue());
    // Before the fix is installed (this file's first test; the fix is once per process).
    expect(await checksWithin(q, 100)).toBeGreaterThan(20);
  });

  it('an idle queue arms no timer once the fix is in', async () => {
    quietIdleRequestQueues();
    const q = track(queue());
    expect(await checksWithin(q, 100)).toBe(0);
    expect(q.throttleCheckTimeoutId).toBeNull();
  });

  it('a queue with pending requests still checks them every 10 ms', () => {
    quietIdleRequestQueues();
    const q = track(queue());
    q.pending.push({});
    q.scheduleCheckPendingRequests();
    const timer = q.throttleCheckTimeoutId as unknown as { _idleTimeout: number } | null;
    expect(timer?._idleTimeout).toBe(10);
  });

  it('a throttled queue checks when the throttle ends, pending or not', () => {
    quietIdleRequestQueues();
    for (const pending of [0, 1]) {
      const q = track(queue());
      for (let i = 0; i < pending; i++) q.pending.push({});
      q.throttledUntil = Date.now() + 500;
      q.scheduleCheckPendingRequests();
      const timer = q.throttleCheckTimeoutId as unknown as { _idleTimeout: number } | null;
      expect(timer?._idleTimeout).toBeGreaterThan(400);
      expect(timer?._idleTimeout).toBeLessThanOrEqual(500);
    }
  });
});
