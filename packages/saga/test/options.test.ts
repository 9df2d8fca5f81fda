// The timer poller refuses an interval or batch it cannot use, naming it: before, intervalMs NaN, 0
// or Infinity polled the store every millisecond and a NaN batch reached the store as its limit.
import { UnsupportedOptionError } from '@switchyard/core';
import { expect, it } from 'vitest';
import { memorySagaStore, sagaTimeouts } from '../src/index.ts';

it('sagaTimeouts() refuses an intervalMs or batch it cannot use', () => {
  const store = memorySagaStore();
  const bus = { publishWire: async () => {} };
  for (const [options, message] of [
    [{ intervalMs: 0 }, /intervalMs must be a number of milliseconds from 1/],
    [{ intervalMs: Number.POSITIVE_INFINITY }, /intervalMs must be a number of milliseconds/],
    [{ batch: Number.NaN }, /batch must be a whole number from 1/],
    [{ batch: 0 }, /batch must be a whole number from 1/],
  ] as const) {
    expect(() => sagaTimeouts({ store, bus, ...options }), JSON.stringify(options)).toThrow(
      UnsupportedOptionError,
    );
    expect(() => sagaTimeouts({ store, bus, ...options })).toThrow(message);
  }
});
