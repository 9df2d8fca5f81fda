// Options that cannot mean anything are refused when the reader is made, naming the option: before,
// batchSize 0 read nothing and polled on for ever, and a NaN or Infinity wait polled every
// millisecond (Node runs such a timer after 1 ms).
import { UnsupportedOptionError } from '@switchyard/core';
import { expect, it } from 'vitest';
import { MemoryProjectionStore, memoryEventStore, projection, runProjection } from '../src/index.ts';

const counter = projection({ name: 'options', version: 1, handlers: { seen: () => {} } });

it('subscribe() refuses a batchSize, prefetch or interval it cannot use', () => {
  const store = memoryEventStore();
  for (const [options, message] of [
    [{ batchSize: 0 }, /batchSize must be a whole number from 1/],
    [{ prefetch: Number.NaN }, /prefetch must be a whole number from 1/],
    [{ pollIntervalMs: Number.POSITIVE_INFINITY }, /pollIntervalMs must be a number of milliseconds/],
    [{ checkpointIntervalMs: -1 }, /checkpointIntervalMs must be a number of milliseconds/],
  ] as const) {
    expect(() => store.subscribe({ name: 'x', ...options }), JSON.stringify(options)).toThrow(
      UnsupportedOptionError,
    );
    expect(() => store.subscribe({ name: 'x', ...options })).toThrow(message);
  }
});

it('runProjection() refuses a batchSize or interval it cannot use', () => {
  const store = memoryEventStore();
  const projections = new MemoryProjectionStore();
  for (const [options, message] of [
    [{ batchSize: 1.5 }, /batchSize must be a whole number from 1/],
    [{ pollIntervalMs: Number.NaN }, /pollIntervalMs must be a number of milliseconds/],
    [{ retryDelayMs: 2 ** 31 }, /retryDelayMs must be a number of milliseconds/],
  ] as const) {
    expect(() => runProjection(counter, { store, projections, ...options }), JSON.stringify(options)).toThrow(
      UnsupportedOptionError,
    );
    expect(() => runProjection(counter, { store, projections, ...options })).toThrow(message);
  }
});
