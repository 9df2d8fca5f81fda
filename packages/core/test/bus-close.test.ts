import { firstValueFrom, take, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { connect } from '../src/connect.ts';
import { ClosedError } from '../src/errors.ts';
import type { LogEntry } from '../src/logger.ts';
import { handle } from '../src/policies/handle.ts';
import type { Outcome } from '../src/policies/outcome.ts';
import { deferred, uniqueName, waitFor } from './helpers.ts';

const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('Bus.close({ drainTimeoutMs })', () => {
  it('drains the handler in flight, gives back what had not started, and leaves no timer behind', async () => {
    const baseline = timers();
    const url = `memory://${uniqueName('close')}`;
    const bus = await connect({ url, source: 'test' });
    await bus.provision('orders', { groups: ['g'] });
    const gate = deferred();
    const started: number[] = [];
    const outcomes: Outcome<number>[] = [];
    bus
      .consume<number>('orders', { group: 'g' })
      .pipe(
        handle(
          async (event) => {
            started.push(event.data);
            await gate.promise;
          },
          { concurrency: 1, timeoutMs: 60_000 },
        ),
      )
      .subscribe((o) => outcomes.push(o));
    await bus.publishBatch(
      'orders',
      [0, 1, 2].map((n) => ({ type: 't', data: n, key: `k${n}` })),
    );
    await waitFor(() => started.length === 1 && bus.unsettled === 3, 'one handler running');

    let closed = false;
    const closing = bus.close({ drainTimeoutMs: 30_000 }).then(() => (closed = true));
    expect(bus.close()).toBe(bus.close()); // one close, however often it is called
    await waitFor(() => outcomes.length === 2, 'the two not started are given back');
    expect(outcomes.map((o) => [o.kind, o.event?.data])).toEqual([
      ['released', 1],
      ['released', 2],
    ]);
    expect(closed).toBe(false);
    gate.resolve();
    await closing;
    expect(outcomes.map((o) => o.kind)).toEqual(['released', 'released', 'acked']);
    expect(started).toEqual([0]);
    expect(bus.unsettled).toBe(0);
    expect(timers()).toBeLessThanOrEqual(baseline);

    // What was given back is redelivered to the next member of the group, counted as a second attempt.
    const next = await connect({ url, source: 'test' });
    const redelivered = await firstValueFrom(
      next.consume<number>('orders', { group: 'g' }).pipe(take(2), toArray()),
    );
    // Different keys: no order between them.
    expect(redelivered.map((d) => [d.event?.data, d.attempt]).sort()).toEqual([
      [1, 2],
      [2, 2],
    ]);
    await Promise.all(redelivered.map((d) => d.ack()));
    await next.close();
  });

  it('past the deadline gives the still-running delivery back for redelivery', async () => {
    const url = `memory://${uniqueName('close')}`;
    const bus = await connect({ url, source: 'test' });
    await bus.provision('orders', { groups: ['g'] });
    const gate = deferred();
    let running = false;
    bus
      .consume('orders', { group: 'g' })
      .pipe(
        handle(
          async () => {
            running = true;
            await gate.promise;
          },
          { timeoutMs: 0 },
        ),
      )
      .subscribe();
    await bus.publish('orders', { type: 't', data: 'slow' });
    await waitFor(() => running, 'handler running');
    const started = performance.now();
    await bus.close({ drainTimeoutMs: 100 });
    expect(performance.now() - started).toBeGreaterThanOrEqual(95);
    expect(bus.unsettled).toBe(0);

    const next = await connect({ url, source: 'test' });
    const again = await firstValueFrom(next.consume('orders', { group: 'g' }));
    expect([again.event?.data, again.attempt]).toEqual(['slow', 2]);
    await again.ack();
    gate.resolve(); // the abandoned handler ends; its ack is a no-op
    await next.close();
  });

  it("aborts the handler's signal when it gives the delivery back, so the handler can stop and report released", async () => {
    const bus = await connect({ url: `memory://${uniqueName('close')}`, source: 'test' });
    await bus.provision('orders', { groups: ['g'] });
    let draining: AbortSignal | undefined;
    let late: AbortSignal | undefined;
    const outcomes: Outcome[] = [];
    bus
      .consume<string>('orders', { group: 'g' })
      .pipe(
        handle(
          async (event, { signal }) => {
            if (event.data === 'drains') {
              draining = signal;
              return;
            }
            late = signal;
            // Stops only when told to: without the abort it would run until the test's end.
            await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
            throw signal.reason;
          },
          { concurrency: 2, timeoutMs: 0 },
        ),
      )
      .subscribe((o) => outcomes.push(o));
    await bus.publishBatch('orders', [
      { type: 't', data: 'drains', key: 'a' },
      { type: 't', data: 'hangs', key: 'b' },
    ]);
    await waitFor(() => late !== undefined && outcomes.length === 1, 'one acked, one hanging');
    expect(late!.aborted).toBe(false);
    await bus.close({ drainTimeoutMs: 100 });
    // A handler that finished in time never sees an abort; the one given back does, as a ClosedError.
    expect(draining!.aborted).toBe(false);
    expect(late!.aborted).toBe(true);
    expect(late!.reason).toBeInstanceOf(ClosedError);
    // The handler's failure is the abort (retrying, as a failed attempt is); the retry finds the
    // bus closing and releases it.
    await waitFor(() => outcomes.length === 3, 'the given-back attempt reported');
    expect(outcomes.map((o) => [o.event?.data, o.kind, o.error?.name])).toEqual([
      ['drains', 'acked', undefined],
      ['hangs', 'retrying', 'ClosedError'],
      ['hangs', 'released', undefined],
    ]);
  });
  it('logs what it waits for after 1 s (count, topic and group, deadline) and what it gave back', async () => {
    const url = `memory://${uniqueName('close')}`;
    const entries: LogEntry[] = [];
    const bus = await connect({ url, source: 'test', logger: (entry) => entries.push(entry) });
    await bus.provision('orders', { groups: ['billing'] });
    const gate = deferred();
    let running = false;
    bus
      .consume('orders', { group: 'billing' })
      .pipe(
        handle(
          async () => {
            running = true;
            await gate.promise; // never resolves before the deadline
          },
          { timeoutMs: 0 },
        ),
      )
      .subscribe();
    await bus.publish('orders', { type: 't', data: 'stuck' });
    await waitFor(() => running, 'handler running');
    await bus.close({ drainTimeoutMs: 1_500 });
    gate.resolve();
    // The default level is warn: the info line at the start is left out.
    expect(entries.map((e) => e.level)).toEqual(['warn', 'warn']);
    const [waiting, gaveBack] = entries.map((e) => e.message);
    expect(waiting).toMatch(/waited 1000 ms for 1 delivery not yet settled .* orders \/ billing: 1/);
    expect(waiting).toMatch(/500 ms from now \(drainTimeoutMs 1500\)/);
    expect(gaveBack).toMatch(
      /gives back for redelivery, after 1500 ms .* 1 delivery .* orders \/ billing: 1/,
    );
    await (await connect({ url, source: 'test' })).close();
  });

  it('logs nothing when the handlers in flight finish within 1 s', async () => {
    const entries: LogEntry[] = [];
    const bus = await connect({
      url: `memory://${uniqueName('close')}`,
      source: 'test',
      logger: (entry) => entries.push(entry),
      logLevel: 'debug',
    });
    await bus.provision('orders', { groups: ['g'] });
    let running = false;
    bus
      .consume('orders', { group: 'g' })
      .pipe(
        handle(async () => {
          running = true;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }),
      )
      .subscribe();
    await bus.publish('orders', { type: 't' });
    await waitFor(() => running, 'handler running');
    await bus.close();
    expect(entries.map((e) => [e.level, e.message])).toEqual([
      [
        'info',
        expect.stringMatching(
          /close\(\) waits up to 30000 ms \(drainTimeoutMs\) for 1 delivery .* orders \/ g: 1/,
        ),
      ],
    ]);
  });

  it('with drainTimeoutMs Infinity waits for the handler however long it takes; NaN or a negative is refused', async () => {
    const bus = await connect({ url: `memory://${uniqueName('close-inf')}`, source: 'test' });
    await bus.provision('orders', { groups: ['g'] });
    const gate = deferred();
    const outcomes: Outcome<number>[] = [];
    bus
      .consume<number>('orders', { group: 'g' })
      .pipe(handle(async () => gate.promise, { concurrency: 1, timeoutMs: 60_000 }))
      .subscribe((o) => outcomes.push(o));
    await bus.publish('orders', { type: 't', data: 1, key: 'k' });
    await waitFor(() => bus.unsettled === 1, 'the handler running');

    for (const drainTimeoutMs of [Number.NaN, -1]) {
      await expect(bus.close({ drainTimeoutMs })).rejects.toThrow(RangeError);
    }
    let closed = false;
    const closing = bus.close({ drainTimeoutMs: Number.POSITIVE_INFINITY }).then(() => (closed = true));
    // Node runs a timer of Infinity ms after 1 ms: the bus must not have given the delivery back.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(closed).toBe(false);
    expect(outcomes).toEqual([]);
    gate.resolve();
    await closing;
    expect(outcomes.map((o) => o.kind)).toEqual(['acked']);
  });

  it('refuses to publish or consume once closed', async () => {
    const bus = await connect({ url: `memory://${uniqueName('close')}`, source: 'test' });
    await bus.close();
    await expect(bus.publish('orders', { type: 't' })).rejects.toBeInstanceOf(ClosedError);
    await expect(firstValueFrom(bus.consume('orders', { group: 'g' }))).rejects.toBeInstanceOf(ClosedError);
    // memory:// used to provision after close where the brokers refuse.
    await expect(bus.provision('orders', { groups: ['g'] })).rejects.toBeInstanceOf(ClosedError);
  });
});
