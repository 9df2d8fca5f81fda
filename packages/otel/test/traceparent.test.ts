import { describe, expect, it } from 'vitest';
import { formatTraceparent, parseTraceparent } from '../src/index.ts';

const TP = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe('traceparent', () => {
  it('round-trips a W3C traceparent and keeps the tracestate', () => {
    const context = parseTraceparent(TP, 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7');
    expect(context).toMatchObject({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: 1,
      isRemote: true,
    });
    expect(context?.traceState?.serialize()).toBe('congo=t61rcWkgMzE,rojo=00f067aa0ba902b7');
    expect(formatTraceparent(context!)).toBe(TP);
    expect(formatTraceparent({ ...context!, traceFlags: 0 })).toBe(TP.replace(/01$/, '00'));
  });

  it('refuses what is not one', () => {
    for (const bad of [
      undefined,
      '',
      'garbage',
      TP.toUpperCase(),
      `ff${TP.slice(2)}`,
      `${TP}-extra`, // version 00 has nothing after the flags
      '00-00000000000000000000000000000000-b7ad6b7169203331-01',
      '00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01',
    ])
      expect(parseTraceparent(bad, undefined)).toBeUndefined();
    // A later version may add fields: the first four are still read.
    expect(parseTraceparent(`01${TP.slice(2)}-more`, undefined)?.spanId).toBe('b7ad6b7169203331');
  });
});
