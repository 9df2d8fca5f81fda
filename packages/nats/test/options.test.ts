import { UnsupportedOptionError } from '@switchyard/core';
import { expect, it } from 'vitest';
import { resolveOptions } from '../src/options.ts';

it('refuses a duration that reaches a timer but cannot be kept, naming it (Node would fire it after 1 ms)', () => {
  for (const name of ['pullExpiresMs', 'requestTimeoutMs', 'connectTimeoutMs'] as const) {
    for (const ms of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31]) {
      expect(() => resolveOptions({ [name]: ms }), `${name}: ${ms}`).toThrow(UnsupportedOptionError);
      expect(() => resolveOptions({ [name]: ms })).toThrow(
        new RegExp(`${name} must be a number of milliseconds`),
      );
    }
    expect(resolveOptions({ [name]: 2 ** 31 - 1 })[name]).toBe(2 ** 31 - 1);
  }
  // The client refuses pull requests that expire sooner than a second.
  expect(resolveOptions({ pullExpiresMs: 10 }).pullExpiresMs).toBe(1_000);
});
