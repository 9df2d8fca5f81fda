import { firstValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { connect } from '../src/connect.ts';
import { handle } from '../src/policies/handle.ts';
import { uniqueName } from './helpers.ts';

describe('numeric options are checked, not read differently by each broker', () => {
  it('consume() refuses a prefetch that is not a positive integer (memory:// used to stall on 0)', async () => {
    const bus = await connect({ url: `memory://${uniqueName('opts')}`, source: 'test' });
    await bus.provision('orders', { groups: ['g'] });
    for (const prefetch of [0, -1, 1.5, Number.NaN]) {
      const error = await firstValueFrom(bus.consume('orders', { group: 'g', prefetch })).catch(
        (e: unknown) => e,
      );
      expect(error, String(prefetch)).toBeInstanceOf(RangeError);
      expect((error as Error).message).toContain('prefetch must be a positive integer');
    }
    await bus.close();
  });

  it('handle() refuses concurrency, timeoutMs and retry.maxAttempts that mean nothing', () => {
    const noop = () => undefined;
    expect(() => handle(noop, { concurrency: 0 })).toThrow(/concurrency must be a positive integer, not 0/);
    expect(() => handle(noop, { concurrency: 2.5 })).toThrow(RangeError);
    expect(() => handle(noop, { timeoutMs: -5 })).toThrow(/timeoutMs must be a number ≥ 0, not -5/);
    expect(() => handle(noop, { timeoutMs: Number.NaN })).toThrow(RangeError);
    expect(() => handle(noop, { retry: { maxAttempts: 0 } })).toThrow(
      /retry.maxAttempts must be a positive integer/,
    );
    // What they do mean stays accepted: 0 turns the timeout off.
    expect(() => handle(noop, { concurrency: 16, timeoutMs: 0, retry: { maxAttempts: 1 } })).not.toThrow();
    expect(() => handle(noop, { timeoutMs: Number.POSITIVE_INFINITY })).not.toThrow();
  });
});
