// A backlog handed on through microtasks must not hold the event loop for the whole backlog:
// timers and I/O (a broker's ack replies, a co-hosted HTTP server) get a turn every few ms.
import { take } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { connect, handle } from '../src/index.ts';
import type { StandardSchemaV1 } from '../src/schemas.ts';
import { countingBus, deferred, uniqueName, waitFor } from './helpers.ts';

describe('bus intake', () => {
  it('gives the event loop a turn while a long backlog is handled, in order and completely', async () => {
    const bus = await connect({ url: `memory://${uniqueName('slices')}`, source: 'test' });
    await bus.provision('t', { groups: ['g'] });
    const count = 2_000;
    await bus.publishBatch(
      't',
      Array.from({ length: count }, (_, i) => ({ type: 'e', data: { i }, key: 'one-key' })),
    );
    const handled: number[] = [];
    let handledWhenLoopTurned: number | undefined;
    let done!: () => void;
    const finished = new Promise<void>((resolve) => {
      done = resolve;
    });
    const subscription = bus
      .consume<{ i: number }>('t', { group: 'g', from: 'earliest', prefetch: 2_000 })
      .pipe(
        handle((event) => {
          if (handled.length === 0)
            setImmediate(() => {
              handledWhenLoopTurned = handled.length;
            });
          // About 20 µs of work each: the backlog is ~40 ms of handlers, the slice a few ms.
          const until = performance.now() + 0.02;
          while (performance.now() < until);
          handled.push(event.data.i);
          if (handled.length === count) done();
        }),
      )
      .subscribe();
    await finished;
    subscription.unsubscribe();
    await bus.close({ drainTimeoutMs: 1_000 });
    expect(handled).toEqual(Array.from({ length: count }, (_, i) => i));
    expect(handledWhenLoopTurned).toBeDefined();
    expect(handledWhenLoopTurned!).toBeLessThan(count);
  });

  it('gives back what it received but did not hand on when the consumer unsubscribes', async () => {
    const { bus, records } = countingBus('intake-rest');
    await bus.provision('t', { groups: ['g'] });
    await bus.publishBatch(
      't',
      Array.from({ length: 20 }, (_, i) => ({ type: 'e', data: i })),
    );
    const taken: number[] = [];
    bus
      .consume<number>('t', { group: 'g', prefetch: 20 })
      .pipe(take(1))
      .subscribe((delivery) => {
        taken.push(delivery.event!.data);
        void delivery.ack();
      });
    await waitFor(() => records.length === 20 && records.every((r) => r.calls.length > 0), 'all settled');
    expect(taken).toEqual([0]);
    expect(records.map((r) => r.calls)).toEqual([['ack'], ...Array.from({ length: 19 }, () => ['nack'])]);
    await bus.close({ drainTimeoutMs: 1_000 });
  });

  it('gives back a delivery whose asynchronous schema check ends after the consumer left', async () => {
    const { bus, records } = countingBus('intake-async');
    const checking = deferred();
    let checks = 0;
    const slow: StandardSchemaV1<number> = {
      '~standard': {
        version: 1,
        vendor: 'test',
        // The publish's check passes at once; the consumer's waits for the test.
        validate: async (value) => {
          if (checks++ > 0) await checking.promise;
          return { value: value as number };
        },
      },
    };
    bus.schemas.register('slow', slow);
    await bus.provision('t', { groups: ['g'] });
    await bus.publish('t', { type: 'slow', data: 1 });
    const subscription = bus.consume<number>('t', { group: 'g' }).subscribe(() => {
      throw new Error('nothing is handed on after unsubscribe');
    });
    await waitFor(() => records.length === 1, 'delivered');
    subscription.unsubscribe();
    checking.resolve();
    await waitFor(() => records[0]!.calls.length > 0, 'given back');
    expect(records[0]!.calls).toEqual(['nack']);
    await bus.close({ drainTimeoutMs: 1_000 });
  });
});
