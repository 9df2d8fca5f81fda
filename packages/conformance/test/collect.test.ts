import type { Delivery } from '@switchyard/core';
import { TransportError } from '@switchyard/core';
import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { collect } from '../src/collect.ts';

/** A delivery whose ack fails with `error` (or succeeds without one). */
function delivery(id: string, error?: Error): Delivery {
  return {
    event: { id },
    message: { headers: {}, body: new Uint8Array() },
    ack: () => (error ? Promise.reject(error) : Promise.resolve()),
  } as unknown as Delivery;
}

describe('collect()', () => {
  it('keeps a delivery whose ack the transport refused (TransportError) and reads on', async () => {
    const deliveries = new Subject<Delivery>();
    const reading = collect(deliveries, { count: 2, idleMs: 50 });
    deliveries.next(delivery('a', new TransportError('partition lost before the commit')));
    deliveries.next(delivery('b'));
    const result = await reading;
    expect(result.ids).toEqual(['a', 'b']);
    expect(result.unsettled.map((d) => d.event?.id)).toEqual(['a']);
  });

  it('ends the read with any other failure of the default ack', async () => {
    const deliveries = new Subject<Delivery>();
    const reading = collect(deliveries, { count: 2, idleMs: 50 });
    deliveries.next(delivery('a', new TypeError('a bug, not a settle the broker refused')));
    await expect(reading).rejects.toThrow(TypeError);
  });
});
