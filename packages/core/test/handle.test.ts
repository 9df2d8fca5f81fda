import { firstValueFrom, type Subscription, take, toArray } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { fixedBackoff } from '../src/backoff.ts';
import type { Bus } from '../src/bus.ts';
import { HandlerTimeoutError, NonRetryableError } from '../src/errors.ts';
import { type HandleOptions, type Handler, handle } from '../src/policies/handle.ts';
import type { Outcome } from '../src/policies/outcome.ts';
import { countingBus, deferred, type SettleRecord, turns, waitFor } from './helpers.ts';

const FINAL = new Set(['acked', 'deadLettered', 'duplicate', 'rejected', 'released']);

describe('handle() on memory://', () => {
  let cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanup.reverse()) await c();
    cleanup = [];
  });

  async function start<T>(handler: Handler<T>, options: HandleOptions, group = 'g') {
    const { bus, records: all } = countingBus('handle');
    // Deliveries of the topic under test (the counting transport also sees the dead-letter reads).
    const records = () => all.filter((r) => r.topic === 'orders');
    await bus.provision('orders', { groups: [group] });
    await bus.provision('orders.dlq', { groups: ['ops'] });
    const outcomes: Outcome<T>[] = [];
    const subscription: Subscription = bus
      .consume<T>('orders', { group })
      .pipe(handle(handler, { deadLetter: { topic: 'orders.dlq' }, ...options }))
      .subscribe((o) => outcomes.push(o));
    cleanup.push(async () => {
      subscription.unsubscribe();
      await bus.close({ drainTimeoutMs: 1_000 });
    });
    const finals = () => outcomes.filter((o) => FINAL.has(o.kind));
    return { bus, records, outcomes, finals, subscription };
  }

  /** Each delivery the transport handed out was settled exactly once. */
  const settledOnce = (records: SettleRecord[]) =>
    expect(records.map((r) => r.calls.length)).toEqual(records.map(() => 1));

  const deadLetters = (bus: Bus, n: number) =>
    firstValueFrom(bus.consume('orders.dlq', { group: 'ops' }).pipe(take(n), toArray()));

  it('retries a synchronous throw and dead-letters after the last attempt, settling each delivery once', async () => {
    const calls: number[] = [];
    const { bus, records, outcomes, finals } = await start<{ n: number }>(
      (_event, ctx) => {
        calls.push(ctx.attempt);
        throw new Error('sync boom');
      },
      { retry: { maxAttempts: 3, backoff: fixedBackoff(1) } },
    );
    const dead = deadLetters(bus, 1);
    await bus.publish('orders', { type: 't', data: { n: 1 }, key: 'k' });
    await waitFor(() => finals().length === 1, 'final outcome');
    expect(calls).toEqual([1, 2, 3]);
    expect(outcomes.map((o) => [o.kind, o.attempt])).toEqual([
      ['retrying', 1],
      ['retrying', 2],
      ['deadLettered', 3],
    ]);
    expect(outcomes[2]!.error?.message).toBe('sync boom');
    expect(outcomes[2]!.deadLetterTopic).toBe('orders.dlq');
    const [letter] = await dead;
    expect(letter!.event?.extensions.deadletterreason).toBe('3 attempts failed; last: sync boom');
    settledOnce(records());
    expect(records()[0]!.calls).toEqual(['ack']);
  });

  it('fails an attempt that runs past timeoutMs and aborts its signal', async () => {
    const signals: AbortSignal[] = [];
    const { bus, records, outcomes, finals } = await start(
      (_event, ctx) => {
        signals.push(ctx.signal);
        return new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
      },
      { timeoutMs: 30, retry: { maxAttempts: 2, backoff: fixedBackoff(1) } },
    );
    await bus.publish('orders', { type: 't', data: 1 });
    await waitFor(() => finals().length === 1, 'final outcome');
    expect(outcomes.map((o) => o.kind)).toEqual(['retrying', 'deadLettered']);
    expect(outcomes.every((o) => o.error instanceof HandlerTimeoutError)).toBe(true);
    expect(signals.map((s) => s.aborted)).toEqual([true, true]);
    settledOnce(records());
  });

  it('skips retries for NonRetryableError', async () => {
    let calls = 0;
    const { bus, records, outcomes, finals } = await start(
      async () => {
        calls += 1;
        throw new NonRetryableError('card declined');
      },
      { retry: { maxAttempts: 5, backoff: fixedBackoff(1) } },
    );
    const dead = deadLetters(bus, 1);
    await bus.publish('orders', { type: 't', data: 1 });
    await waitFor(() => finals().length === 1, 'final outcome');
    expect(calls).toBe(1);
    expect(outcomes.map((o) => [o.kind, o.attempt])).toEqual([['deadLettered', 1]]);
    const [letter] = await dead;
    expect(letter!.event?.extensions).toMatchObject({
      deadletterreason: 'non-retryable: card declined',
      deadletterattempts: '1',
    });
    settledOnce(records());
  });

  it('rejects a message that is not a valid event and dead-letters it with the reason; the stream goes on', async () => {
    const handled: number[] = [];
    const { bus, records, outcomes, finals } = await start<number>((event) => {
      handled.push(event.data);
    }, {});
    const dead = deadLetters(bus, 1);
    const body = new TextEncoder().encode('{not json');
    await bus.publishWire('orders', [
      {
        headers: {
          specversion: '1.0',
          id: 'bad-1',
          source: 's',
          type: 't',
          datacontenttype: 'application/json',
        },
        body,
      },
    ]);
    await bus.publish('orders', { type: 't', data: 7 });
    await waitFor(() => finals().length === 2, 'two final outcomes');
    expect(outcomes.map((o) => o.kind)).toEqual(['rejected', 'acked']);
    expect(outcomes[0]!.event).toBeUndefined();
    expect(handled).toEqual([7]);
    const [letter] = await dead;
    expect(letter!.message.headers.deadletterreason).toMatch(
      /^rejected: Body is not valid application\/json/,
    );
    expect(Buffer.from(letter!.message.body).equals(Buffer.from(body))).toBe(true);
    settledOnce(records());
  });

  it('runs exactly `concurrency` handlers at once with a slow handler', async () => {
    let inFlight = 0;
    let peak = 0;
    let gate = deferred();
    const { bus, records, finals } = await start(
      async () => {
        inFlight += 1;
        peak = Math.max(peak, inFlight);
        await gate.promise;
        inFlight -= 1;
      },
      { concurrency: 5 },
    );
    await bus.publishBatch(
      'orders',
      Array.from({ length: 23 }, (_, i) => ({ type: 't', data: i, key: `k${i}` })),
    );
    for (let round = 0; round < 5; round++) {
      await waitFor(() => inFlight === Math.min(5, 23 - round * 5), `round ${round} in flight`);
      await turns();
      expect(inFlight).toBe(Math.min(5, 23 - round * 5));
      const open = gate;
      gate = deferred();
      open.resolve();
    }
    await waitFor(() => finals().length === 23, 'all acked');
    expect(peak).toBe(5);
    settledOnce(records());
  });

  it('sends long retry delays to the broker: later events of the key wait, other keys do not', async () => {
    const order: string[] = [];
    let failed = false;
    const { bus, records, outcomes, finals } = await start<string>(
      (event, ctx) => {
        order.push(`${event.data}#${ctx.attempt}`);
        if (event.data === 'a1' && !failed) {
          failed = true;
          throw new Error('later');
        }
      },
      { concurrency: 4, retry: { maxAttempts: 3, backoff: fixedBackoff(150), inProcessMaxDelayMs: 20 } },
    );
    await bus.publishBatch('orders', [
      { type: 't', data: 'a1', key: 'A' },
      { type: 't', data: 'a2', key: 'A' },
      { type: 't', data: 'b1', key: 'B' },
    ]);
    await waitFor(() => order.includes('b1#1'), 'b1 handled');
    // a1 went back to the broker with a delay: a2 must not overtake it.
    expect(order).not.toContain('a2#1');
    await waitFor(() => finals().length === 3, 'all final');
    expect(order.filter((o) => o.startsWith('a'))).toEqual(['a1#1', 'a1#2', 'a2#1']);
    expect(order.indexOf('b1#1')).toBeLessThan(order.indexOf('a1#2'));
    const retry = outcomes.find((o) => o.kind === 'retrying')!;
    expect(retry.delayMs).toBe(150);
    // The retry was a broker redelivery: a nack with the delay, then a new delivery with attempt 2.
    expect(
      records()
        .filter((r) => r.calls[0] === 'nack')
        .map((r) => r.delays[0]),
    ).toEqual([150]);
    expect(
      records()
        .map((r) => r.delivery.attempt)
        .sort(),
    ).toEqual([1, 1, 1, 2]);
    settledOnce(records());
  });

  it('acks a duplicate event id without running the handler again', async () => {
    const { memoryIdempotencyStore } = await import('../src/idempotency/memory-store.ts');
    let calls = 0;
    const { bus, records, outcomes, finals } = await start(
      () => {
        calls += 1;
      },
      { idempotency: { store: memoryIdempotencyStore() } },
    );
    await bus.publish('orders', { type: 't', id: 'same', data: 1, key: 'k' });
    await bus.publish('orders', { type: 't', id: 'same', data: 1, key: 'k' });
    await waitFor(() => finals().length === 2, 'two finals');
    expect(calls).toBe(1);
    expect(outcomes.map((o) => o.kind)).toEqual(['acked', 'duplicate']);
    settledOnce(records());
  });

  it('does not run a retry beside an attempt that timed out but runs on (idempotency holds its claim)', async () => {
    const { memoryIdempotencyStore } = await import('../src/idempotency/memory-store.ts');
    const runs: Array<{ start: number; end?: number }> = [];
    const { bus, records, outcomes, finals } = await start(
      async (_event, ctx) => {
        const run: { start: number; end?: number } = { start: performance.now() };
        runs.push(run);
        // The first attempt ignores its signal and runs well past the deadline.
        if (ctx.attempt === 1) await new Promise((resolve) => setTimeout(resolve, 150));
        run.end = performance.now();
      },
      {
        timeoutMs: 30,
        retry: { maxAttempts: 5, backoff: fixedBackoff(1) },
        idempotency: { store: memoryIdempotencyStore() },
      },
    );
    await bus.publish('orders', { type: 't', data: 1, key: 'k' });
    await waitFor(() => finals().length === 1, 'final outcome', 5_000);
    expect(outcomes.at(-1)!.kind).toBe('acked');
    expect(outcomes[0]!.error).toBeInstanceOf(HandlerTimeoutError);
    // Each run started after the one before had ended.
    expect(runs.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < runs.length; i++) expect(runs[i]!.start).toBeGreaterThanOrEqual(runs[i - 1]!.end!);
    settledOnce(records());
  });

  it('on unsubscribe mid-flight lets the running handler ack and gives back the rest once', async () => {
    const gate = deferred();
    const started: number[] = [];
    const { bus, records, subscription } = await start<number>(
      async (event) => {
        started.push(event.data);
        await gate.promise;
      },
      { concurrency: 1 },
    );
    await bus.publishBatch(
      'orders',
      [0, 1, 2].map((n) => ({ type: 't', data: n, key: `k${n}` })),
    );
    await waitFor(() => started.length === 1 && records().length === 3, 'first handler running');
    subscription.unsubscribe();
    await waitFor(() => records().filter((r) => r.calls.length > 0).length === 2, 'two given back');
    expect(records().map((r) => r.calls)).toEqual([[], ['nack'], ['nack']]);
    gate.resolve();
    await waitFor(() => records()[0]!.calls.length === 1, 'running one settled');
    expect(records()[0]!.calls).toEqual(['ack']);
    expect(started).toEqual([0]);
    await turns();
    settledOnce(records());
  });
});
